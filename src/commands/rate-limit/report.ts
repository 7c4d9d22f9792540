import type { Logger } from '../../core/logger.js';
import type { NewAuditEntry } from '../audit.js';
import type { BurstReport } from './burst.js';
import { describeLimit, type RateLimitSettings } from './settings.js';

const OUTCOME: Record<BurstReport['phase'], string> = {
  start: 'limited',
  continuing: 'still_limited',
  end: 'ended',
};

/**
 * The audit line of a burst report: who (the login) and which connection (client id), the
 * limit, and how many commands were refused. A start line names the action of the first
 * refused command; the count lines say `*`, as they count whatever was sent.
 */
export function burstAuditEntry(r: BurstReport, settings: RateLimitSettings): NewAuditEntry {
  return {
    kind: 'rate_limit',
    who: r.user,
    origin: 'mqtt',
    action: r.phase === 'start' ? r.action.slice(0, 64) : '*',
    target: null,
    command_id: null,
    action_id: null,
    outcome: OUTCOME[r.phase],
    message: burstMessage(r, settings),
    detail: {
      level: r.level,
      client_id: r.clientId,
      count: r.count,
      total: r.total,
      first_at: new Date(r.firstAt).toISOString(),
      last_at: new Date(r.lastAt).toISOString(),
    },
  };
}

/** Who a burst is about, as a person reads it. */
export function clientOf(r: {
  level: BurstReport['level'];
  user: string;
  clientId: string | null;
}) {
  if (r.level === 'user') return `${r.user} (all its connections together)`;
  return r.clientId === null ? r.user : `${r.user} (client ${r.clientId})`;
}

function burstMessage(r: BurstReport, settings: RateLimitSettings): string {
  const who = clientOf(r);
  if (r.phase === 'start') {
    const bucket = settings[r.level];
    const limit = bucket ? `: more than ${describeLimit(bucket)}` : '';
    return `refusing commands from ${who}${limit}`;
  }
  if (r.phase === 'continuing')
    return `${r.count} more commands from ${who} refused; ${r.total} since ${iso(r.firstAt)}`;
  return `${r.total} commands from ${who} refused from ${iso(r.firstAt)} to ${iso(r.lastAt)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The log's side of a burst: a warning when it starts, its total when it ends. */
export function logBurst(log: Logger, r: BurstReport): void {
  const fields = { user: r.user, clientId: r.clientId, level: r.level, total: r.total };
  if (r.phase === 'start') log.warn(fields, 'commands rate-limited');
  else if (r.phase === 'end') log.info(fields, 'commands no longer rate-limited');
}
