import type { StoreError } from './event-store.js';
import type { QueuedEvent } from './queued-event.js';
import type { CommitResult } from './sqlite-writes.js';

/** What the group commit needs from the store: one transaction, and what to do after it. */
export interface Committer {
  /** Writes the batch and the acks in one fsynced transaction; throws to fail them all. */
  commit(appends: readonly QueuedEvent[], acks: ReadonlyMap<string, number>): CommitResult;
  /** Called after a commit, before anyone waiting on it is answered. */
  committed(result: CommitResult, acks: ReadonlyMap<string, number>): void;
  /** Maps a commit failure to the error every waiter of the batch gets. */
  failed(err: unknown): StoreError;
  /** An append callback threw: logged by the store, the others are still answered. */
  callbackFailed(err: unknown): void;
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
 *
 * An append is its queued event and nothing else: who waits for it is the callback and
 * token it carries (`enqueue`), so queueing one allocates no promise or waiter (issue 15).
 */
export class GroupCommit {
  readonly #committer: Committer;
  readonly #maxBatch: number;
  #appends: QueuedEvent[] = [];
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

  /** Queues `q` for the next commit; its `done` is called after it (not before this returns). */
  append(q: QueuedEvent): void {
    this.#appends.push(q);
    this.#schedule();
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

  /** The next batch: the whole queue when it fits (no copy), else its first maxBatch. */
  #take(): QueuedEvent[] {
    if (this.#appends.length <= this.#maxBatch) {
      const batch = this.#appends;
      this.#appends = [];
      return batch;
    }
    return this.#appends.splice(0, this.#maxBatch);
  }

  /** Commits up to maxBatch queued events and all queued acks in one transaction. */
  #flush(): void {
    const batch = this.#take();
    const acks = this.#acks;
    const ackWaiters = this.#ackWaiters;
    this.#acks = new Map();
    this.#ackWaiters = [];
    if (batch.length === 0 && acks.size === 0) return;
    let result: CommitResult;
    try {
      result = this.#committer.commit(batch, acks);
    } catch (err) {
      const failure = this.#committer.failed(err);
      for (const q of batch) this.#answer(q, failure);
      for (const w of ackWaiters) w.reject(failure);
      return;
    }
    this.#commits++;
    this.#appended += batch.length;
    this.#committer.committed(result, acks);
    for (const q of batch) this.#answer(q, undefined);
    for (const w of ackWaiters) w.resolve();
  }

  /** Calls the append's callback: its own refusal, the batch's failure, or its stored event. */
  #answer(q: QueuedEvent, failure: StoreError | undefined): void {
    if (q.done === undefined) return;
    const err = q.error ?? failure;
    try {
      q.done(err, err ? undefined : q.stored, q.token);
    } catch (thrown) {
      this.#committer.callbackFailed(thrown);
    }
  }
}
