import type { Statement } from 'better-sqlite3';
import { SAMPLE_EVENT_TYPE, SEVERITIES, severityAt, type StoredEvent } from '../core/events.js';
import type { EventRecord, StoreStats, WireRecord } from './event-store.js';
import type { Db } from './sqlite-schema.js';

/** An events row as SQLite returns it. */
export interface EventRow {
  seq: number;
  id: string;
  ts: number;
  node: string;
  type: string;
  sev: number;
  subject: string;
  data: string;
  size: number;
}

/** The running totals kept in the one-row `state` table, updated in every write transaction. */
export interface StateRow {
  last_seq: number;
  bytes: number;
  count: number;
}

export const EVENT_COLUMNS = 'seq, id, ts, node, type, sev, subject, data, size';
/** What readRecordsAfter reads: every column but the size the bound counts. */
const RECORD_COLUMNS = 'seq, id, ts, node, type, sev, subject, data';
/**
 * A row as a wire record (issue 15), built by SQLite: the payload is the wire form
 * (`JSON.stringify(toWireEvent(e))`, core/events.ts) written around the stored data's JSON
 * text, so the replay allocates one string per event instead of a row of columns, a parsed
 * data object, a wire copy and their JSON. json_quote escapes as JSON.stringify does (the
 * store's tests compare them byte for byte); ts is whole ms from 0 to year 9999 (toMs), so
 * integer arithmetic writes toISOString's form. `bad` names the first damaged field, as
 * rowToEvent does; the data must be valid RFC 8259 JSON and an object.
 */
const WIRE_SELECT = `SELECT seq, id, type = '${SAMPLE_EVENT_TYPE}' AS history_only,
  CASE
    WHEN typeof(seq) <> 'integer' OR seq < 1 THEN 'seq'
    WHEN typeof(id) <> 'text' OR length(id) <> 26 THEN 'id'
    WHEN typeof(ts) <> 'integer' OR ts < 0 OR ts > 253402300799999 THEN 'ts'
    WHEN typeof(node) <> 'text' OR node = '' THEN 'node'
    WHEN typeof(type) <> 'text' OR type = '' THEN 'type'
    WHEN typeof(sev) <> 'integer' OR sev < 0 OR sev > ${SEVERITIES.length - 1} THEN 'severity'
    WHEN typeof(subject) <> 'text' THEN 'subject'
    WHEN typeof(data) <> 'text' OR substr(data, 1, 1) <> '{' OR NOT json_valid(data) THEN 'data'
  END AS bad,
  '{"id":' || json_quote(id) ||
  ',"ts":"' || strftime('%Y-%m-%dT%H:%M:%S', ts / 1000, 'unixepoch') || printf('.%03dZ"', ts % 1000) ||
  ',"node":' || json_quote(node) ||
  ',"type":' || json_quote(type) ||
  ',"severity":"' || CASE sev ${SEVERITIES.map((v, i) => `WHEN ${i} THEN '${v}'`).join(' ')} END ||
  '","subject":' || json_quote(subject) ||
  ',"data":' || data || '}' AS payload
  FROM events WHERE seq > ? ORDER BY seq LIMIT ?`;

/** A wire record as SQLite returns it: `bad` names a damaged field (then payload is junk). */
export interface WireRow {
  seq: number;
  id: string;
  /** 1 for a type `isHistoryOnly` names (core/events.ts), 0 otherwise. */
  history_only: number;
  bad: string | null;
  payload: string | null;
}

/** A wire row as a record; an Error naming the seq when the row is damaged. */
export function wireRowToRecord(row: WireRow): WireRecord | Error {
  if (row.bad !== null || row.payload === null) {
    return new Error(`event seq ${row.seq} is damaged: bad ${row.bad ?? 'row'}`);
  }
  return { seq: row.seq, id: row.id, payload: row.payload, historyOnly: row.history_only === 1 };
}

/** Every statement the store runs more than once, prepared once at open. */
export function prepareStatements(db: Db) {
  const s = <P extends unknown[] = unknown[], R = unknown>(sql: string) =>
    db.prepare<P, R>(sql) as Statement<P, R>;
  return {
    state: s<[], StateRow>('SELECT last_seq, bytes, count FROM state WHERE id = 1'),
    setState: s<[number, number, number]>(
      'UPDATE state SET last_seq = ?, bytes = ?, count = ? WHERE id = 1',
    ),
    insert: s<[number, string, number, string, string, number, string, string, number]>(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    remove: s<[number]>('DELETE FROM events WHERE seq = ?'),
    oldestOfSeverity: s<[number, number, number], { seq: number; type: string; size: number }>(
      'SELECT seq, type, size FROM events WHERE sev = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    olderThan: s<[number, number], Omit<EventRow, 'id' | 'ts' | 'node' | 'subject' | 'data'>>(
      'SELECT seq, type, sev, size FROM events WHERE ts < ? ORDER BY ts LIMIT ?',
    ),
    prunable: s<[number, number, number], { seq: number; size: number }>(
      'SELECT seq, size FROM events WHERE seq <= ? AND ts < ? ORDER BY seq LIMIT ?',
    ),
    addDrops: s<[number, number]>(
      'INSERT INTO drop_totals (sev, count) VALUES (?, ?) ' +
        'ON CONFLICT (sev) DO UPDATE SET count = count + excluded.count',
    ),
    dropTotals: s<[], { sev: number; count: number }>('SELECT sev, count FROM drop_totals'),
    cursor: s<[string], { seq: number }>('SELECT seq FROM cursors WHERE sink = ?'),
    addCursor: s<[string, number]>('INSERT OR IGNORE INTO cursors (sink, seq) VALUES (?, ?)'),
    advanceCursor: s<[number, string, number]>(
      'UPDATE cursors SET seq = ? WHERE sink = ? AND seq < ?',
    ),
    cursors: s<[], { sink: string; seq: number }>('SELECT sink, seq FROM cursors ORDER BY sink'),
    after: s<[number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    afterWire: s<[number, number], WireRow>(WIRE_SELECT),
    afterRecords: s<[number, number], Omit<EventRow, 'size'>>(
      `SELECT ${RECORD_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    backlog: s<[number], { n: number; oldest: number | null }>(
      'SELECT count(*) AS n, min(ts) AS oldest FROM events WHERE seq > ?',
    ),
    oldestTs: s<[], { oldest: number | null }>('SELECT min(ts) AS oldest FROM events'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** A row as a validated event; an Error naming the seq when the row is damaged. */
export function rowToEvent(row: EventRow): StoredEvent | Error {
  // The store wrote these rows through validated appends, and the column types hold them;
  // what remains to catch is damage on disk. Checked by hand rather than through
  // storedEventSchema: this is the replay hot path (a zod parse per row cost ~20 % of it).
  try {
    const data = JSON.parse(row.data) as unknown;
    const problem =
      damage(row) ??
      (data === null || typeof data !== 'object' || Array.isArray(data) ? 'data' : undefined);
    if (problem) throw new Error(`bad ${problem}`);
    return {
      seq: row.seq,
      id: row.id,
      ts: new Date(row.ts).toISOString(),
      node: row.node,
      type: row.type,
      severity: severityAt(row.sev),
      subject: row.subject,
      data: data as StoredEvent['data'],
    };
  } catch (err) {
    return new Error(`event seq ${row.seq} is damaged: ${(err as Error).message}`);
  }
}

/**
 * A row as an EventRecord (ts in ms, data as stored); an Error naming the seq when the row
 * is damaged. The data is checked to be an object's text by its first byte, not parsed: the
 * reader parses it if it needs it, and a reader that does not is spared the parse.
 */
export function rowToRecord(row: Omit<EventRow, 'size'>): EventRecord | Error {
  const problem =
    damage(row) ??
    (row.sev >= 0 && row.sev < SEVERITIES.length && Number.isInteger(row.sev)
      ? undefined
      : 'severity') ??
    (typeof row.data === 'string' && row.data.startsWith('{') ? undefined : 'data');
  if (problem) return new Error(`event seq ${row.seq} is damaged: bad ${problem}`);
  return {
    seq: row.seq,
    id: row.id,
    ts: row.ts,
    node: row.node,
    type: row.type,
    severity: SEVERITIES[row.sev]!,
    subject: row.subject,
    data: row.data,
  };
}

/** Which field of a row read back is not what the store writes, if any (data aside). */
function damage(row: Omit<EventRow, 'size'>): string | undefined {
  if (!Number.isSafeInteger(row.seq) || row.seq < 1) return 'seq';
  if (typeof row.id !== 'string' || row.id.length !== 26) return 'id';
  if (!Number.isFinite(row.ts)) return 'ts';
  if (typeof row.node !== 'string' || row.node === '') return 'node';
  if (typeof row.type !== 'string' || row.type === '') return 'type';
  if (typeof row.subject !== 'string') return 'subject';
  return undefined;
}

/** The stats the database holds: running totals, the oldest ts and the drop counters. */
export function readTotals(
  st: Statements,
): Pick<StoreStats, 'count' | 'bytes' | 'oldestTs' | 'lastSeq' | 'dropped'> {
  const state = st.state.get()!;
  const oldest = st.oldestTs.get()!.oldest;
  const bySeverity = Object.fromEntries(
    SEVERITIES.map((s) => [s, 0]),
  ) as StoreStats['dropped']['bySeverity'];
  let total = 0;
  for (const r of st.dropTotals.all()) {
    bySeverity[severityAt(r.sev)] = r.count;
    total += r.count;
  }
  return {
    count: state.count,
    bytes: state.bytes,
    oldestTs: oldest === null ? undefined : new Date(oldest).toISOString(),
    lastSeq: state.last_seq,
    dropped: { total, bySeverity },
  };
}
