import type { IPoint } from 'influx';
import type { EventData, StoredEvent } from '../../src/core/events.js';

/**
 * Backup outcomes as points of `backups` (issue 19): one table, by event type, so the
 * backups capability's events map here by name and a renamed field is one line to change.
 * Each field is read from the first of its names the event's data has; a field the data
 * lacks is left out rather than written as 0.
 */
const BACKUP_EVENTS: Readonly<Record<string, { result: string; ok: boolean }>> = {
  backup_succeeded: { result: 'succeeded', ok: true },
  backup_failed: { result: 'failed', ok: false },
};

/** field → names it may have in the event's data, in order of preference. */
const BACKUP_FIELDS: Readonly<Record<string, readonly string[]>> = {
  duration_s: ['duration_s', 'duration'],
  size_bytes: ['size_bytes', 'size'],
};

export function backupPoint(
  e: Pick<StoredEvent, 'type' | 'subject' | 'node' | 'data'>,
  timestamp: string,
): IPoint | undefined {
  const outcome = BACKUP_EVENTS[e.type];
  if (!outcome) return undefined;
  const job = typeof e.data.job === 'string' && e.data.job !== '' ? e.data.job : e.subject;
  const fields: Record<string, string | number | boolean> = {
    result: outcome.result,
    ok: outcome.ok,
  };
  for (const [field, names] of Object.entries(BACKUP_FIELDS)) {
    const v = firstNumber(e.data, names);
    if (v !== undefined) fields[field] = v;
  }
  return { measurement: 'backups', tags: { node: e.node, job }, fields, timestamp };
}

function firstNumber(data: EventData, names: readonly string[]): number | undefined {
  for (const n of names) {
    const v = data[n];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}
