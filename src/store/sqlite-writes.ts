import {
  isSeverity,
  severityAt,
  severityRank,
  type NewEvent,
  type Severity,
  type StoredEvent,
} from '../core/events.js';
import { payloadBytes, StoreError } from './event-store.js';
import {
  droppedEvent,
  planOverflow,
  summarizeDrops,
  type DropCandidate,
  type DropSummary,
} from './overflow.js';
import type { StateRow, Statements } from './sqlite-rows.js';
import type { Db } from './sqlite-schema.js';
import type { UlidGenerator } from './ulid.js';

/**
 * The store's write transactions. Each runs inside one `BEGIN IMMEDIATE … COMMIT` and keeps
 * the `state` row (last seq, bytes, count) exact, so the running byte sum never drifts.
 */

/** An event checked and serialised at append time, before it waits for the commit. */
export interface PreparedEvent {
  /** Its seq is set when the commit inserts it (0 until then). */
  event: StoredEvent;
  tsMs: number;
  sev: number;
  dataJson: string;
  bytes: number;
}

export interface WriteContext {
  db: Db;
  st: Statements;
  path: string;
  node: string;
  nextId: UlidGenerator;
  now: () => number;
  maxBytes: number;
  targetBytes: number;
  maxEventBytes: number;
}

const TYPE_RE = /^[a-z][a-z0-9_]*$/;
// Years 0000…9999: what an ISO 8601 `…Z` string with a four-digit year can say.
const MAX_TS = 253402300799999;

/**
 * Checks and serialises one event; throws a `bad_event` StoreError saying what is wrong.
 * The store's own records pass `maxBytes: Infinity`: an events_dropped listing many types
 * must not fail the commit that drops them.
 */
export function prepareEvent(
  ctx: WriteContext,
  e: NewEvent,
  maxBytes = ctx.maxEventBytes,
): PreparedEvent {
  const now = ctx.now();
  const tsMs = e.ts === undefined ? now : toMs(e.ts);
  const problem = checkEvent(e, tsMs);
  if (problem !== undefined) throw new StoreError('bad_event', ctx.path, problem);
  let dataJson: string;
  try {
    dataJson = e.data === undefined ? '{}' : JSON.stringify(e.data);
  } catch (err) {
    const why = `data: not serialisable as JSON (${(err as Error).message})`;
    throw new StoreError('bad_event', ctx.path, why);
  }
  const event: StoredEvent = {
    seq: 0,
    id: ctx.nextId(now),
    ts: isoTime(tsMs),
    node: ctx.node,
    type: e.type,
    severity: e.severity,
    subject: e.subject,
    // A copy as readers will see it (JSON), not the caller's object, which may change later.
    data: JSON.parse(dataJson) as Record<string, unknown>,
  };
  const bytes = payloadBytes(event, dataJson);
  if (bytes > maxBytes) {
    const why = `event of ${bytes} bytes exceeds the ${maxBytes}-byte limit per event`;
    throw new StoreError('bad_event', ctx.path, why);
  }
  return { event, tsMs, sev: severityRank(e.severity), dataJson, bytes };
}

/** What is wrong with an event's fields (not its data's JSON), or undefined. */
function checkEvent(e: NewEvent, tsMs: number): string | undefined {
  if (typeof e.type !== 'string' || !TYPE_RE.test(e.type)) {
    return `type ${JSON.stringify(e.type)}: expected a snake_case event type`;
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

export interface CommitResult {
  /** One per appended event, in input order (some may already be dropped again). */
  stored: StoredEvent[];
  /** What the commit left in the store that is new: for the onAppend listeners. */
  added: StoredEvent[];
  dropped: DropSummary | undefined;
  lastSeq: number;
}

/** Appends a batch, advances cursors and enforces the size bound, all in one transaction. */
export function commitBatch(
  ctx: WriteContext,
  appends: readonly PreparedEvent[],
  acks: ReadonlyMap<string, number>,
): CommitResult {
  return ctx.db
    .transaction(() => {
      const state = ctx.st.state.get()!;
      const stored = appends.map((p) => insertEvent(ctx, state, p));
      for (const [sink, seq] of acks) ctx.st.advanceCursor.run(seq, sink, seq);
      let dropped: DropSummary | undefined;
      let added = stored;
      if (state.bytes > ctx.maxBytes) {
        const plan = planOverflow({
          bytes: state.bytes,
          maxBytes: ctx.maxBytes,
          targetBytes: ctx.targetBytes,
          oldest: (severity) => oldestOf(ctx.st, severity),
        });
        dropped = removeDropped(ctx, state, plan, 'max_bytes');
        const gone = new Set(plan.map((c) => c.seq));
        added = stored.filter((e) => !gone.has(e.seq));
        if (dropped)
          added.push(insertEvent(ctx, state, prepareEvent(ctx, droppedEvent(dropped), Infinity)));
      }
      ctx.st.setState.run(state.last_seq, state.bytes, state.count);
      return { stored, added, dropped, lastSeq: state.last_seq };
    })
    .immediate();
}

/** Drops events older than `cutoffMs`, whatever their severity, recording them as dropped. */
export function dropExpired(ctx: WriteContext, cutoffMs: number, limit: number): CommitResult {
  return ctx.db
    .transaction(() => {
      const state = ctx.st.state.get()!;
      const rows = ctx.st.olderThan.all(cutoffMs, limit).map((r) => ({
        seq: r.seq,
        type: r.type,
        severity: severityAt(r.sev),
        bytes: r.size,
      }));
      const dropped = removeDropped(ctx, state, rows, 'max_age');
      const added = dropped
        ? [insertEvent(ctx, state, prepareEvent(ctx, droppedEvent(dropped), Infinity))]
        : [];
      ctx.st.setState.run(state.last_seq, state.bytes, state.count);
      return { stored: [], added, dropped, lastSeq: state.last_seq };
    })
    .immediate();
}

/** Silently deletes up to `limit` events every registered sink has acked, older than cutoff. */
export function pruneAcked(
  ctx: WriteContext,
  ackedUpTo: number,
  cutoffMs: number,
  limit: number,
): number {
  return ctx.db
    .transaction(() => {
      const state = ctx.st.state.get()!;
      const rows = ctx.st.prunable.all(ackedUpTo, cutoffMs, limit);
      for (const r of rows) {
        ctx.st.remove.run(r.seq);
        state.bytes -= r.size;
        state.count -= 1;
      }
      if (rows.length > 0) ctx.st.setState.run(state.last_seq, state.bytes, state.count);
      return rows.length;
    })
    .immediate();
}

function insertEvent(ctx: WriteContext, state: StateRow, p: PreparedEvent): StoredEvent {
  const seq = ++state.last_seq;
  const e = p.event;
  const st = ctx.st.insert;
  st.run(seq, e.id, p.tsMs, e.node, e.type, p.sev, e.subject, p.dataJson, p.bytes);
  state.bytes += p.bytes;
  state.count += 1;
  // The prepared event becomes the stored one; if the transaction rolls back, it is dropped.
  e.seq = seq;
  return e;
}

function removeDropped(
  ctx: WriteContext,
  state: { bytes: number; count: number },
  rows: readonly DropCandidate[],
  reason: DropSummary['reason'],
): DropSummary | undefined {
  if (rows.length === 0) return undefined;
  const perSeverity = new Map<number, number>();
  for (const r of rows) {
    ctx.st.remove.run(r.seq);
    state.bytes -= r.bytes;
    state.count -= 1;
    const rank = severityRank(r.severity);
    perSeverity.set(rank, (perSeverity.get(rank) ?? 0) + 1);
  }
  for (const [rank, n] of perSeverity) ctx.st.addDrops.run(rank, n);
  return summarizeDrops(reason, rows);
}

/** The events of one severity, oldest first, read a page at a time as the policy asks. */
function* oldestOf(st: Statements, severity: Severity): Generator<DropCandidate> {
  const rank = severityRank(severity);
  let after = 0;
  for (;;) {
    const page = st.oldestOfSeverity.all(rank, after, 256);
    for (const r of page) yield { seq: r.seq, severity, type: r.type, bytes: r.size };
    if (page.length < 256) return;
    after = page[page.length - 1]!.seq;
  }
}
