import type { EventRecord } from '../../src/store/event-store.js';
import { backupPoint } from './backup-points.js';
import { escapeTag, line, quoteString } from './line-protocol.js';
import { SAMPLE_EVENT_TYPE, samplePoints } from './sample.js';

/**
 * Stored events as lines of InfluxDB line protocol (issue 19): the mapping of points.ts
 * (one `events` point per event, a `backups` point per backup outcome, a sample's states),
 * written straight from the store's records: ts in ms, the data parsed once, one string per
 * line. points.ts builds the same points as `IPoint` objects for a bare `influx` client
 * (the benchmark's baseline); a unit test holds the two to the same text.
 */
export function eventLines(r: EventRecord, out: string[]): void {
  const timestamp = recordTimestamp(r.ts, r.seq);
  const data = JSON.parse(r.data) as Record<string, unknown>;
  if (r.type === SAMPLE_EVENT_TYPE) {
    for (const p of samplePoints(r.node, data, timestamp)) {
      const l = line(p.measurement!, p.tags!, p.fields as never, timestamp);
      if (l !== undefined) out.push(l);
    }
    return;
  }
  out.push(eventLine(r, data, timestamp));
  const backup = backupPoint({ type: r.type, subject: r.subject, node: r.node, data }, timestamp);
  if (backup) {
    const l = line('backups', backup.tags!, backup.fields as never, timestamp);
    if (l !== undefined) out.push(l);
  }
}

const str = (v: unknown): v is string => typeof v === 'string';

/** The `events` point: tags node, type, severity and the subject's; fields sorted by key. */
function eventLine(r: EventRecord, data: Record<string, unknown>, timestamp: string): string {
  let s = `events,node=${escapeTag(r.node)},type=${escapeTag(r.type)},severity=${r.severity}`;
  if (str(data.host) && data.host !== '') s += `,host=${escapeTag(data.host)}`;
  if (str(data.container) && data.container !== '') s += `,container=${escapeTag(data.container)}`;
  if (str(data.mount) && data.mount !== '') s += `,mount=${escapeTag(data.mount)}`;
  if (str(data.job) && data.job !== '') s += `,job=${escapeTag(data.job)}`;
  s += ` count=1,id=${quoteString(r.id)}`;
  const incident = data.incident as { id?: unknown } | undefined;
  if (incident && str(incident.id)) s += `,incident=${quoteString(incident.id)}`;
  if (str(data.message)) s += `,message=${quoteString(data.message)}`;
  s += `,subject=${quoteString(r.subject)}`;
  if (str(data.title)) s += `,title=${quoteString(data.title)}`;
  return `${s} ${timestamp}`;
}

/** `ts` (ms) as nanoseconds since the epoch, the seq's last six digits below the ms. */
export function recordTimestamp(ms: number, seq: number): string {
  const sub = seq % 1_000_000;
  // The digits side by side, as strings: no BigInt per event. Before 1970 (a negative ms)
  // the sub-millisecond part is not a suffix, so those few take the arithmetic way.
  if (ms > 0) return `${ms}${String(sub).padStart(6, '0')}`;
  return (BigInt(ms) * 1_000_000n + BigInt(sub)).toString();
}
