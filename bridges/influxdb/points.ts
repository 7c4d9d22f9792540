import type { IPoint } from 'influx';
import type { StoredEvent } from '../../src/core/events.js';
import { backupPoint } from './backup-points.js';
import { recordTimestamp } from './lines.js';
import { SAMPLE_EVENT_TYPE, samplePoints } from './sample.js';

/**
 * Events as InfluxDB points (issue 19). Every event is one point of `events`; a backup
 * outcome is also one point of `backups`; a sample event (sampler.ts) is the states it
 * carries, one point each of `containers`, `hosts`, `disks` and `watchdog_checks`.
 *
 * Timestamps are the event's own, in nanoseconds, with the event's seq in the sub-
 * millisecond digits: the same event always makes the same points, so a batch written
 * again after a failure overwrites what landed the first time (InfluxDB keeps one value per
 * series, field and timestamp) instead of adding to it, and two events in one millisecond
 * never overwrite each other.
 */
export function eventPoints(e: StoredEvent): IPoint[] {
  const timestamp = eventTimestamp(e);
  if (e.type === SAMPLE_EVENT_TYPE) return samplePoints(e.node, e.data, timestamp);
  const points: IPoint[] = [eventPoint(e, timestamp)];
  const backup = backupPoint(e, timestamp);
  if (backup) points.push(backup);
  return points;
}

/** The tags the data of an event may name (DESIGN.md events: host, container, mount, job). */
const SUBJECT_TAGS = ['host', 'container', 'mount', 'job'] as const;

function eventPoint(e: StoredEvent, timestamp: string): IPoint {
  const data = e.data;
  const tags: Record<string, string> = { node: e.node, type: e.type, severity: e.severity };
  for (const t of SUBJECT_TAGS) {
    const v = data[t];
    if (typeof v === 'string' && v !== '') tags[t] = v;
  }
  // Built in place, one object per point: a backlog drains thousands a second.
  const fields: Record<string, string | number> = { count: 1, id: e.id, subject: e.subject };
  if (typeof data.title === 'string') fields.title = data.title;
  if (typeof data.message === 'string') fields.message = data.message;
  const incident = data.incident as { id?: unknown } | undefined;
  if (incident && typeof incident.id === 'string') fields.incident = incident.id;
  return { measurement: 'events', tags, fields, timestamp };
}

/** `ts` (ISO, ms) as nanoseconds since the epoch, the seq's last six digits below the ms. */
export function eventTimestamp(e: Pick<StoredEvent, 'ts' | 'seq'>): string {
  return recordTimestamp(Date.parse(e.ts), e.seq);
}
