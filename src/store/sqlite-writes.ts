import { severityAt, severityRank, type Severity, type StoredEvent } from '../core/events.js';
import { StoreError } from './event-store.js';
import {
  droppedEvent,
  planOverflow,
  summarizeDrops,
  type DropCandidate,
  type DropSummary,
} from './overflow.js';
import { insertEvent, type QueuedEvent, type RowContext } from './queued-event.js';
import type { StateRow, Statements } from './sqlite-rows.js';
import type { Db } from './sqlite-schema.js';

export { toMs } from './queued-event.js';

/**
 * The store's write transactions. Each runs inside one `BEGIN IMMEDIATE … COMMIT` and keeps
 * the `state` row (last seq, bytes, count) exact, so the running byte sum never drifts.
 */

export interface WriteContext extends RowContext {
  db: Db;
  now: () => number;
  maxBytes: number;
  targetBytes: number;
}

export interface CommitResult {
  /** What the commit left in the store that is new: for the onAppend listeners. */
  added: StoredEvent[];
  dropped: DropSummary | undefined;
  lastSeq: number;
}

/**
 * Appends a batch, advances cursors and enforces the size bound, all in one transaction.
 * Each queued event gets `stored`, or `error` when it alone is refused (bad_event: its data
 * cannot be serialised or is over the per-event bound); the others are written regardless.
 */
export function commitBatch(
  ctx: WriteContext,
  appends: readonly QueuedEvent[],
  acks: ReadonlyMap<string, number>,
): CommitResult {
  return ctx.db
    .transaction(() => {
      const state = ctx.st.state.get()!;
      let added: StoredEvent[] = [];
      for (const q of appends) {
        try {
          q.stored = insertEvent(ctx, state, q.event, q.now, undefined, q.dataJson);
          added.push(q.stored);
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          q.error = err;
        }
      }
      for (const [sink, seq] of acks) ctx.st.advanceCursor.run(seq, sink, seq);
      let dropped: DropSummary | undefined;
      if (state.bytes > ctx.maxBytes) {
        const plan = planOverflow({
          bytes: state.bytes,
          maxBytes: ctx.maxBytes,
          targetBytes: ctx.targetBytes,
          oldest: (severity) => oldestOf(ctx.st, severity),
        });
        dropped = removeDropped(ctx, state, plan, 'max_bytes');
        const gone = new Set(plan.map((c) => c.seq));
        added = added.filter((e) => !gone.has(e.seq));
        if (dropped) added.push(recordDrops(ctx, state, dropped));
      }
      ctx.st.setState.run(state.last_seq, state.bytes, state.count);
      return { added, dropped, lastSeq: state.last_seq };
    })
    .immediate();
}

/** The events_dropped record of `dropped`, inserted now. */
function recordDrops(ctx: WriteContext, state: StateRow, dropped: DropSummary): StoredEvent {
  return insertEvent(ctx, state, droppedEvent(dropped), ctx.now(), Infinity);
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
      const added = dropped ? [recordDrops(ctx, state, dropped)] : [];
      ctx.st.setState.run(state.last_seq, state.bytes, state.count);
      return { added, dropped, lastSeq: state.last_seq };
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
