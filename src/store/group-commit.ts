import type { StoredEvent } from '../core/events.js';
import type { StoreError } from './event-store.js';
import type { CommitResult, PreparedEvent } from './sqlite-writes.js';

/** What the group commit needs from the store: one transaction, and what to do after it. */
export interface Committer {
  /** Writes the batch and the acks in one fsynced transaction; throws to fail them all. */
  commit(appends: readonly PreparedEvent[], acks: ReadonlyMap<string, number>): CommitResult;
  /** Called after a commit, before anyone waiting on it is answered. */
  committed(result: CommitResult, acks: ReadonlyMap<string, number>): void;
  /** Maps a commit failure to the error every waiter of the batch gets. */
  failed(err: unknown): StoreError;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/**
 * Group commit: appends and acks queue up, and everything that arrived in the same turn of
 * the event loop goes into one transaction, so one fsync serves them all. better-sqlite3 is
 * synchronous, so no commit is ever "in flight" while JavaScript runs: a commit blocks, and
 * whatever queued meanwhile is taken by the next turn.
 */
export class GroupCommit {
  readonly #committer: Committer;
  readonly #maxBatch: number;
  #appends: (Waiter<StoredEvent> & { p: PreparedEvent })[] = [];
  #acks = new Map<string, number>();
  #ackWaiters: Waiter<void>[] = [];
  #scheduled = false;
  #closed = false;
  #commits = 0;
  #appended = 0;

  constructor(committer: Committer, maxBatch: number) {
    this.#committer = committer;
    this.#maxBatch = maxBatch;
  }

  /** Commits so far; appended / commits is the mean batch size. */
  get commits(): number {
    return this.#commits;
  }

  get appended(): number {
    return this.#appended;
  }

  append(p: PreparedEvent): Promise<StoredEvent> {
    return new Promise((resolve, reject) => {
      this.#appends.push({ p, resolve, reject });
      this.#schedule();
    });
  }

  /** Moves `sink` to `seq` in the next commit (the highest seq asked for wins). */
  ack(sink: string, seq: number): Promise<void> {
    this.#acks.set(sink, Math.max(seq, this.#acks.get(sink) ?? 0));
    return new Promise((resolve, reject) => {
      this.#ackWaiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  /** Commits everything still queued, now; later turns do nothing. */
  close(): void {
    this.#closed = true;
    while (this.#appends.length > 0 || this.#acks.size > 0) this.#flush();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: appends made by every callback of this loop turn (other
    // I/O, other timers) join the same transaction, one fsync for all of them.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#closed) return;
      this.#flush();
      if (this.#appends.length > 0 || this.#acks.size > 0) this.#schedule();
    });
  }

  /** Commits up to maxBatch queued events and all queued acks in one transaction. */
  #flush(): void {
    const batch = this.#appends.splice(0, this.#maxBatch);
    const acks = this.#acks;
    const ackWaiters = this.#ackWaiters;
    this.#acks = new Map();
    this.#ackWaiters = [];
    if (batch.length === 0 && acks.size === 0) return;
    let result: CommitResult;
    try {
      result = this.#committer.commit(
        batch.map((b) => b.p),
        acks,
      );
    } catch (err) {
      const failure = this.#committer.failed(err);
      for (const b of batch) b.reject(failure);
      for (const w of ackWaiters) w.reject(failure);
      return;
    }
    this.#commits++;
    this.#appended += batch.length;
    this.#committer.committed(result, acks);
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(result.stored[i]!);
    for (const w of ackWaiters) w.resolve();
  }
}
