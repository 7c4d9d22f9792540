import { Buffer } from 'node:buffer';
import { isSeverity, severityRank, type NewEvent, type StoredEvent } from '../core/events.js';
import { StoreError, type AppendCallback } from './event-store.js';
import type { StateRow, Statements } from './sqlite-rows.js';
import type { UlidGenerator } from './ulid.js';

/**
 * An append from the moment it is queued to its row. It is checked when queued (a bad
 * field is refused at once, naming it) but serialised only in the commit that writes it:
 * what waits for a commit outlives young-generation collections (a 1 MiB semi-space under
 * the launcher), so it is kept to the caller's event and its time, and the JSON, the id
 * and the stored event are made where they are used and die young (issue 15).
 */

/** An append waiting for the next commit; the commit fills in `stored` or `error`. */
export interface QueuedEvent {
  readonly event: NewEvent;
  /** The store clock when it was appended: its id's time, and its ts unless it has one. */
  readonly now: number;
  /** Who hears of the commit (enqueue's callback and token). */
  readonly done: AppendCallback<unknown> | undefined;
  readonly token: unknown;
  /** Serialised already (appendMany checks whole batches up front); usually undefined. */
  dataJson: string | undefined;
  /** The event as the commit stored it. */
  stored: StoredEvent | undefined;
  /** Why the commit refused this one event (bad_event): the others of the batch go on. */
  error: StoreError | undefined;
}

/** What serialising and inserting an event needs from the store. */
export interface RowContext {
  st: Statements;
  path: string;
  node: string;
  /** UTF-8 bytes of `node`, counted once rather than per event. */
  nodeBytes: number;
  nextId: UlidGenerator;
  maxEventBytes: number;
}

const TYPE_RE = /^[a-z][a-z0-9_]*$/;
// Years 0000…9999: what an ISO 8601 `…Z` string with a four-digit year can say.
const MAX_TS = 253402300799999;
/** A ULID and an ISO 8601 time of years 0000…9999 (toMs keeps ts there): ASCII, fixed. */
const ID_BYTES = 26;
const ISO_BYTES = 24;
/** The event types seen so far: a Set lookup instead of the regex on every append. */
const knownTypes = new Set<string>();

/** Checks `e` and queues it as of `now`; throws a `bad_event` StoreError naming the field. */
export function queueEvent(
  path: string,
  e: NewEvent,
  now: number,
  done: AppendCallback<unknown> | undefined,
  token: unknown,
): QueuedEvent {
  const problem = checkEvent(e, e.ts === undefined ? now : toMs(e.ts));
  if (problem !== undefined) throw new StoreError('bad_event', path, problem);
  return { event: e, now, done, token, dataJson: undefined, stored: undefined, error: undefined };
}

/**
 * `data` as it is written, or a `bad_event` StoreError. The stored event keeps the caller's
 * object, not a JSON copy of it: `NewEvent.data` is handed over (events.ts), every producer
 * builds a fresh one per event, and readers of the disk get this JSON. A parse per event for
 * a private copy was a third of an append's time and most of its garbage (issue 15).
 */
export function serialiseData(path: string, e: NewEvent): string {
  try {
    return e.data === undefined ? '{}' : JSON.stringify(e.data);
  } catch (err) {
    const why = `data: not serialisable as JSON (${(err as Error).message})`;
    throw new StoreError('bad_event', path, why);
  }
}

/**
 * Serialises a checked event, inserts it as the next seq and counts it in `state`; throws a
 * `bad_event` StoreError (before writing anything) when it is over `maxBytes`. The store's
 * own records pass `Infinity`: an events_dropped listing many types must not fail the
 * commit that drops them.
 */
export function insertEvent(
  ctx: RowContext,
  state: StateRow,
  e: NewEvent,
  now: number,
  maxBytes = ctx.maxEventBytes,
  dataJson = serialiseData(ctx.path, e),
): StoredEvent {
  const bytes = eventBytes(ctx, e, dataJson, maxBytes);
  const tsMs = e.ts === undefined ? now : toMs(e.ts);
  const seq = ++state.last_seq;
  const id = ctx.nextId(now);
  const sev = severityRank(e.severity);
  ctx.st.insert.run(seq, id, tsMs, ctx.node, e.type, sev, e.subject, dataJson, bytes);
  state.bytes += bytes;
  state.count += 1;
  return {
    seq,
    id,
    ts: isoTime(tsMs),
    node: ctx.node,
    type: e.type,
    severity: e.severity,
    subject: e.subject,
    data: e.data ?? {},
  };
}

/**
 * `payloadBytes` (event-store.ts) of a checked event, counting by length what is ASCII by
 * construction (id, ts, type, severity); a `bad_event` StoreError when over `maxBytes`.
 */
export function eventBytes(
  ctx: Pick<RowContext, 'path' | 'nodeBytes'>,
  e: NewEvent,
  dataJson: string,
  maxBytes: number,
): number {
  const bytes =
    ID_BYTES +
    ISO_BYTES +
    ctx.nodeBytes +
    e.type.length +
    e.severity.length +
    Buffer.byteLength(e.subject) +
    Buffer.byteLength(dataJson);
  if (bytes > maxBytes) {
    const why = `event of ${bytes} bytes exceeds the ${maxBytes}-byte limit per event`;
    throw new StoreError('bad_event', ctx.path, why);
  }
  return bytes;
}

/** What is wrong with an event's fields (not its data's JSON), or undefined. */
function checkEvent(e: NewEvent, tsMs: number): string | undefined {
  if (!knownTypes.has(e.type)) {
    if (typeof e.type !== 'string' || !TYPE_RE.test(e.type)) {
      return `type ${JSON.stringify(e.type)}: expected a snake_case event type`;
    }
    // Bounded: types are a short list in the code (EVENT_TYPES), not outside input.
    if (knownTypes.size < 1024) knownTypes.add(e.type);
  }
  if (!isSeverity(e.severity)) {
    return `severity ${JSON.stringify(e.severity)}: expected debug, info, warning, error or critical`;
  }
  if (typeof e.subject !== 'string') return 'subject: expected a string';
  if (Number.isNaN(tsMs))
    return `ts ${JSON.stringify(e.ts)}: expected epoch ms, a Date or ISO 8601`;
  const d = e.data;
  if (d !== undefined && (typeof d !== 'object' || d === null || Array.isArray(d))) {
    return 'data: expected a JSON object';
  }
  return undefined;
}

let lastMs = NaN;
let lastIso = '';

/** ISO 8601 of epoch ms, memoised for the last value: a batch mostly shares one ms. */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Epoch ms of a timestamp, NaN when it is not one or lies outside years 0…9999. */
export function toMs(t: number | Date | string): number {
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_TS ? Math.floor(ms) : NaN;
}
