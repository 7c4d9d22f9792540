import { isSeverity, SEVERITIES, type Severity } from '../core/events.js';

/**
 * Log level names as event severities, the one mapping: `log.level: warn` is accepted, so
 * `events --severity warn` is too (issue 20). pino's levels have no "warning" or
 * "critical"; its `fatal` is the gravest, `trace` the lightest.
 */
const LOG_LEVELS: Readonly<Record<string, Severity>> = {
  trace: 'debug',
  warn: 'warning',
  fatal: 'critical',
};

/** The severity a name means (a severity or a log level, any case), or undefined. */
export function severityFromName(name: string): Severity | undefined {
  const lower = name.trim().toLowerCase();
  if (isSeverity(lower)) return lower;
  return LOG_LEVELS[lower];
}

/** For messages: every accepted name. */
export const SEVERITY_NAMES = `${SEVERITIES.join(', ')} (or the log levels ${Object.keys(LOG_LEVELS).join(', ')})`;
