import { severityRank, type IncidentRef, type NewEvent } from './events.js';
import type { Logger } from './logger.js';

/**
 * Logs an event in the words a person reads on the alert (issue #14: the log used to say
 * nothing while containers went down, self-healing ran and approvals happened): its
 * `message` at warn from `warning` up, at info for `info`, with its type, subject and
 * incident beside it for grep.
 */
export function logEvent(log: Logger, e: NewEvent): void {
  const data = e.data ?? {};
  const message = typeof data.message === 'string' ? data.message : `${e.type} ${e.subject}`;
  const incident = (data.incident as Partial<IncidentRef> | undefined)?.id;
  const fields = {
    type: e.type,
    subject: e.subject,
    severity: e.severity,
    ...(typeof incident === 'string' ? { incident } : {}),
  };
  const rank = severityRank(e.severity);
  if (rank >= severityRank('warning')) log.warn(fields, message);
  else if (rank === severityRank('info')) log.info(fields, message);
  else log.debug(fields, message);
}
