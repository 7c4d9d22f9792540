import { isHistoryOnly, type StoredEvent } from '../../src/core/events.js';
import type { AppendInfo } from '../../src/store/event-store.js';

export interface LiveLaneOptions {
  /** The replay's positions: the newest seq it read, and the newest it has fully delivered. */
  replay: () => { read: number; delivered: number };
  /** Whether sending now makes sense (link up, not paused). */
  ready: () => boolean;
  /** Publishes one event ahead of the replay (paced with priority); resolves on PUBACK. */
  send: (e: StoredEvent) => Promise<void>;
  /** Events remembered at most; beyond it new events simply wait for the replay. */
  limit: number;
}

/**
 * "Live first" (issue 4): while the replay drains a backlog, an event appended now would
 * wait behind all of it. The lane sends such an event at once and remembers the pending
 * ack by seq; when the replay reaches that seq it awaits the remembered ack instead of
 * publishing again. The store cursor still moves only through the replay, over contiguous
 * acknowledged events, so a crash re-sends (a duplicate with the same id), never loses.
 *
 * The order this gives: the replay is in seq order; a live event may overtake the backlog.
 * Downstream orders by `ts`/`id` (ULIDs sort by time) and drops duplicates by `id`.
 */
export class LiveLane {
  readonly #o: LiveLaneOptions;
  readonly #sent = new Map<number, Promise<void>>();
  #overtook = 0;

  constructor(opts: LiveLaneOptions) {
    this.#o = opts;
  }

  /** Events the lane sent ahead of the replay since start. */
  get overtook(): number {
    return this.#overtook;
  }

  get remembered(): number {
    return this.#sent.size;
  }

  /** For store.onAppend. */
  onAppend(info: AppendInfo): void {
    const first = info.events[0];
    if (!first) return;
    const { read, delivered } = this.#o.replay();
    this.#forget(delivered);
    // Nothing older is waiting: the replay reads these next, in order, at once.
    if (first.seq - 1 <= read || !this.#o.ready()) return;
    for (const e of info.events) {
      if (this.#sent.size >= this.#o.limit) return;
      if (isHistoryOnly(e.type)) continue; // the replay passes over it, sending nothing
      const ack = this.#o.send(e);
      this.#sent.set(e.seq, ack);
      this.#overtook++;
      // A failed live send is forgotten, so the replay publishes the event itself.
      ack.catch(() => {
        if (this.#sent.get(e.seq) === ack) this.#sent.delete(e.seq);
      });
    }
  }

  /** For the replay: the pending ack of an event this lane sent (and forgets it). */
  claim(seq: number): Promise<void> | undefined {
    if (this.#sent.size === 0) return undefined;
    const ack = this.#sent.get(seq);
    if (ack) this.#sent.delete(seq);
    return ack;
  }

  clear(): void {
    this.#sent.clear();
  }

  /** Entries the replay can no longer claim (the event was dropped by the store's bound). */
  #forget(delivered: number): void {
    if (this.#sent.size === 0) return;
    for (const seq of this.#sent.keys()) if (seq <= delivered) this.#sent.delete(seq);
  }
}
