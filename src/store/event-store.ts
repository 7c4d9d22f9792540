import { Buffer } from 'node:buffer';
import type { EventType, NewEvent, Severity, StoredEvent } from '../core/events.js';
import { OutpostError } from '../core/errors.js';

/**
 * The event store (DESIGN.md "Data flow"): every event is on disk before anyone hears of
 * it; each sink drains it at its own pace through its own durable cursor. The store is
 * bounded by bytes and age with an explicit overflow policy (see overflow.ts).
 */
export interface EventStore {
  /** Resolves once the event is committed and fsynced; rejects with a StoreError otherwise. */
  append(event: NewEvent): Promise<StoredEvent>;
  /**
   * `append` without a promise, for producers that append one event at a time on the
   * agent's hot path: `done` is called once, after the commit that made the event durable
   * or with the StoreError that refused it (never before `enqueue` returns), with `token`,
   * so one callback serves every event without a closure each.
   */
  enqueue<T>(event: NewEvent, done: AppendCallback<T>, token: T): void;
  /**
   * Appends the events in order, in one commit when they fit in one batch; results in input
   * order. A malformed event rejects the call before any of them is queued.
   */
  appendMany(events: readonly NewEvent[]): Promise<StoredEvent[]>;
  /**
   * Declares a sink for this run and returns its cursor. A new sink starts before the oldest
   * stored event or at the newest one; a known sink keeps its durable cursor. Only sinks
   * registered since open hold back retention pruning.
   */
  registerSink(name: string, opts?: SinkOptions): Promise<number>;
  /**
   * Up to `limit` events after the sink's cursor (or after `after`, when that is further: a
   * sink reading ahead while earlier events wait for their ack), in seq order.
   */
  readAfter(sink: string, limit: number, after?: number): Promise<StoredEvent[]>;
  /**
   * As readAfter, each event as the wire record a publishing sink sends: its seq, id and
   * wire JSON (`JSON.stringify(toWireEvent(e))`, byte for byte), built without parsing it.
   */
  readWireAfter(sink: string, limit: number, after?: number): Promise<WireRecord[]>;
  /**
   * As readAfter, each event as a flat record (issue 19): ts in ms since the epoch and the
   * data as its stored JSON text, for a sink that turns events into text of its own and
   * would only take them apart again (no ISO string, no parsed data unless it parses it).
   */
  readRecordsAfter(sink: string, limit: number, after?: number): Promise<EventRecord[]>;
  /** Moves the sink's cursor to `seq` once its destination has it; durable; never backwards. */
  ack(sink: string, seq: number): Promise<void>;
  cursor(sink: string): Promise<number>;
  /** What the sink has not acknowledged yet. */
  backlog(sink: string): Promise<Backlog>;
  /** Every known cursor, registered in this run or not. */
  sinks(): Promise<SinkInfo[]>;
  /** Events by time, type and minimum severity: for the `outpost events` CLI. */
  query(q?: EventQuery): Promise<StoredEvent[]>;
  stats(): Promise<StoreStats>;
  /** Called after every commit that added events, so sinks wake up instead of polling. */
  onAppend(listener: AppendListener): () => void;
  /** Commits what is pending, stops the timers and closes the files. */
  close(): Promise<void>;
}

/** A stored event ready to publish (issue 15): what a replay needs and nothing more. */
export interface WireRecord {
  /** The cursor position. */
  seq: number;
  /** The event id (ULID): the downstream dedup key, also sent as an MQTT 5 user property. */
  id: string;
  /** The wire JSON: `JSON.stringify(toWireEvent(e))`. */
  payload: string;
  /** Its type is for the history sinks only (`isHistoryOnly`): a publishing sink skips it. */
  historyOnly: boolean;
}

/** A stored event as readRecordsAfter gives it: its columns, ts in ms, data unparsed. */
export interface EventRecord {
  seq: number;
  id: string;
  /** ms since the epoch (StoredEvent's ts is this as an ISO string). */
  ts: number;
  node: string;
  type: EventType;
  severity: Severity;
  subject: string;
  /** The data object's JSON text, as stored (`JSON.parse` gives StoredEvent's data). */
  data: string;
}

export interface SinkOptions {
  /** Where a sink seen for the first time starts; default `oldest` (loses nothing). */
  startAt?: 'oldest' | 'now';
}

export interface Backlog {
  cursor: number;
  count: number;
  /** ts of the oldest event after the cursor; undefined when the sink is up to date. */
  oldestTs: string | undefined;
}

export interface SinkInfo {
  name: string;
  cursor: number;
  registered: boolean;
}

export type TimeLike = number | Date | string;

export interface EventQuery {
  /** Events with ts ≥ since. */
  since?: TimeLike;
  /** Events with ts < until. */
  until?: TimeLike;
  type?: EventType | readonly EventType[];
  /** This severity or a graver one. */
  severity?: Severity;
  /** Default 1000. */
  limit?: number;
  /** By seq; `desc` gives the newest first (default `asc`). */
  order?: 'asc' | 'desc';
}

export interface StoreStats {
  count: number;
  /** Payload bytes stored (see `payloadBytes`): what the size bound counts. */
  bytes: number;
  maxBytes: number;
  oldestTs: string | undefined;
  /** The newest seq ever assigned (survives pruning). */
  lastSeq: number;
  /** Dropped by the overflow policy since the store was created. */
  dropped: { total: number; bySeverity: Record<Severity, number> };
  /** Commits since open; appends / commits is the group-commit batch size. */
  commits: number;
  appended: number;
  /** False while appends fail (disk full, read-only); `lastError` says why. */
  writable: boolean;
  lastError: string | undefined;
}

export interface AppendInfo {
  lastSeq: number;
  /** The events this commit added (an events_dropped record included). */
  events: readonly StoredEvent[];
}

export type AppendListener = (info: AppendInfo) => void;

/**
 * How `enqueue` answers: `err` undefined and `stored` the event as stored once it is
 * committed and fsynced; otherwise the StoreError that refused it and no `stored`.
 */
export type AppendCallback<T> = (
  err: StoreError | undefined,
  stored: StoredEvent | undefined,
  token: T,
) => void;

/**
 * The bytes an event counts against the size bound: the UTF-8 length of its fields as
 * published (id, ISO ts, node, type, severity, subject and the data JSON), without framing.
 * Tracked as a running sum rather than read from `page_count`, which lags deletes (freed
 * pages stay in the file) and counts index and WAL overhead the bound is not about.
 */
export function payloadBytes(
  e: Omit<StoredEvent, 'seq' | 'data'> & { seq?: number },
  dataJson: string,
): number {
  return (
    Buffer.byteLength(e.id) +
    Buffer.byteLength(e.ts) +
    Buffer.byteLength(e.node) +
    Buffer.byteLength(e.type) +
    e.severity.length +
    Buffer.byteLength(e.subject) +
    Buffer.byteLength(dataJson)
  );
}

/** Sink names: short, and safe in logs, file names and topic levels alike. */
export function isSinkName(name: unknown): name is string {
  return typeof name === 'string' && /^[a-zA-Z0-9_.:-]{1,100}$/.test(name);
}

/** Why a store operation failed; callers switch on this (the code is coarser). */
export type StoreFailure =
  | 'disk_full'
  | 'read_only'
  | 'io'
  | 'closed'
  | 'corrupt'
  | 'bad_event'
  | 'bad_request'
  | 'unknown_sink'
  | 'internal';

/** A store failure: names the database path and the cause, says whether retrying may help. */
export class StoreError extends OutpostError {
  readonly reason: StoreFailure;
  readonly path: string;

  constructor(
    reason: StoreFailure,
    path: string,
    message: string,
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(reason === 'bad_event' ? 'BAD_PAYLOAD' : 'INTERNAL', `event store ${path}: ${message}`, {
      retryable: opts.retryable ?? (reason === 'disk_full' || reason === 'io'),
      cause: opts.cause,
    });
    this.name = 'StoreError';
    this.reason = reason;
    this.path = path;
  }
}
