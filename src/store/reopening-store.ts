import { Backoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { NewEvent, StoredEvent } from '../core/events.js';
import { errorMessage, OutpostError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { storageFailure } from '../core/storage-failure.js';
import {
  isSinkName,
  StoreError,
  type AppendCallback,
  type AppendInfo,
  type AppendListener,
  type Backlog,
  type EventRecord,
  type EventQuery,
  type EventStore,
  type SinkInfo,
  type SinkOptions,
  type StoreStats,
  type WireRecord,
} from './event-store.js';

export interface ReopeningStoreOptions {
  /** Opens the real store; throws while it cannot (a StoreError says why). */
  open: () => EventStore;
  /** The database path, for the errors this store gives while the real one is not open. */
  path: string;
  /** The store's size bound, reported by `stats` before it opens. */
  maxBytes: number;
  clock: Clock;
  log: Logger;
  /** Delay between open attempts; default 1 s doubling to 15 s (as the spill's writes). */
  retry?: { initialMs: number; maxMs: number };
  /** Jitter source of the retry backoff (tests fix it). */
  random?: () => number;
}

/**
 * Opens the event store, or — when it cannot open for a reason that can pass (a full disk
 * at start: the database or its WAL cannot be created) — a ReopeningEventStore that keeps
 * trying. Any other failure is thrown: retrying would not fix it.
 */
export function openOrReopen(opts: ReopeningStoreOptions): EventStore {
  try {
    return opts.open();
  } catch (err) {
    if (!(err instanceof OutpostError && err.retryable)) throw err;
    return new ReopeningEventStore(opts, err);
  }
}

/**
 * An event store that could not open at start (issue 13 point 7): it retries the open with
 * backoff until the real store opens, then hands every call to it. Until then it refuses
 * appends with the open failure's reason (`disk_full`), so the EventSpill holds the agent's
 * events in memory and writes them back once appends succeed, as it does when the disk
 * fills at run time. Sinks see an empty store: they register (remembered, and registered
 * in the real store before it takes any write, so `startAt: 'now'` misses no held event),
 * read nothing, and are woken by an append notice once the store opens.
 */
export class ReopeningEventStore implements EventStore {
  readonly #o: ReopeningStoreOptions;
  readonly #backoff: Backoff;
  readonly #sinks = new Map<string, SinkOptions>();
  readonly #listeners = new Set<AppendListener>();
  #real: EventStore | undefined;
  #failure: unknown;
  #timer: TimerHandle | undefined;
  #opening = false;
  #closed = false;

  constructor(opts: ReopeningStoreOptions, failure: unknown) {
    this.#o = opts;
    this.#failure = failure;
    this.#backoff = new Backoff({
      ...(opts.retry ?? { initialMs: 1_000, maxMs: 15_000 }),
      ...(opts.random ? { random: opts.random } : {}),
    });
    opts.log.error(
      { err: errorMessage(failure) },
      'event store cannot open: holding events in memory and retrying until it opens',
    );
    this.#schedule();
  }

  /** True once the real store has opened. */
  get open(): boolean {
    return this.#real !== undefined;
  }

  append(event: NewEvent): Promise<StoredEvent> {
    return this.#real ? this.#real.append(event) : Promise.reject(this.#refusal());
  }

  enqueue<T>(event: NewEvent, done: AppendCallback<T>, token: T): void {
    if (this.#real) return this.#real.enqueue(event, done, token);
    const refusal = this.#refusal();
    queueMicrotask(() => done(refusal, undefined, token));
  }

  appendMany(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    return this.#real ? this.#real.appendMany(events) : Promise.reject(this.#refusal());
  }

  registerSink(name: string, opts: SinkOptions = {}): Promise<number> {
    if (this.#real) return this.#real.registerSink(name, opts);
    if (!isSinkName(name)) {
      const why = `sink name ${JSON.stringify(name)}: expected 1-100 letters, digits, _ . : or -`;
      return Promise.reject(new StoreError('bad_request', this.#o.path, why));
    }
    this.#sinks.set(name, opts);
    return Promise.resolve(0);
  }

  readAfter(sink: string, limit: number, after?: number): Promise<StoredEvent[]> {
    return this.#real ? this.#real.readAfter(sink, limit, after) : Promise.resolve([]);
  }

  readWireAfter(sink: string, limit: number, after?: number): Promise<WireRecord[]> {
    return this.#real ? this.#real.readWireAfter(sink, limit, after) : Promise.resolve([]);
  }

  readRecordsAfter(sink: string, limit: number, after?: number): Promise<EventRecord[]> {
    return this.#real ? this.#real.readRecordsAfter(sink, limit, after) : Promise.resolve([]);
  }

  ack(sink: string, seq: number): Promise<void> {
    // Nothing was read before the store opened, so nothing can be acknowledged.
    return this.#real ? this.#real.ack(sink, seq) : Promise.reject(this.#refusal());
  }

  cursor(sink: string): Promise<number> {
    return this.#real ? this.#real.cursor(sink) : Promise.resolve(0);
  }

  backlog(sink: string): Promise<Backlog> {
    if (this.#real) return this.#real.backlog(sink);
    return Promise.resolve({ cursor: 0, count: 0, oldestTs: undefined });
  }

  sinks(): Promise<SinkInfo[]> {
    if (this.#real) return this.#real.sinks();
    return Promise.resolve(
      [...this.#sinks.keys()].map((name) => ({ name, cursor: 0, registered: true })),
    );
  }

  query(q?: EventQuery): Promise<StoredEvent[]> {
    return this.#real ? this.#real.query(q) : Promise.resolve([]);
  }

  stats(): Promise<StoreStats> {
    if (this.#real) return this.#real.stats();
    return Promise.resolve({
      count: 0,
      bytes: 0,
      maxBytes: this.#o.maxBytes,
      oldestTs: undefined,
      lastSeq: 0,
      dropped: { total: 0, bySeverity: { debug: 0, info: 0, warning: 0, error: 0, critical: 0 } },
      commits: 0,
      appended: 0,
      writable: false,
      lastError: errorMessage(this.#failure),
    });
  }

  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#real?.close();
  }

  /** Why appends are refused: the open failure's reason, so the spill holds what can wait. */
  #refusal(): StoreError {
    if (this.#closed) return new StoreError('closed', this.#o.path, 'closed');
    const reason = storageFailure(this.#failure) ?? 'io';
    const why = `not open yet: ${errorMessage(this.#failure)}`;
    return new StoreError(reason, this.#o.path, why, { retryable: true, cause: this.#failure });
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#attempt();
    }, this.#backoff.next());
  }

  #attempt(): void {
    if (this.#opening || this.#closed) return;
    let real: EventStore;
    try {
      real = this.#o.open();
    } catch (err) {
      return this.#stillFailing(err);
    }
    this.#opening = true;
    void this.#registerSinks(real);
  }

  /** Before any write reaches the real store: a sink starting at `now` sees held events. */
  async #registerSinks(real: EventStore): Promise<void> {
    try {
      for (const [name, opts] of this.#sinks) await real.registerSink(name, opts);
    } catch (err) {
      await real.close().catch(() => undefined);
      this.#opening = false;
      return this.#stillFailing(err);
    }
    this.#opening = false;
    if (this.#closed) return real.close();
    this.#adopt(real);
  }

  #stillFailing(err: unknown): void {
    // Logged when the cause changes, not at every attempt: a long outage is one line.
    if (errorMessage(err) !== errorMessage(this.#failure)) {
      this.#o.log.warn({ err: errorMessage(err) }, 'event store still cannot open');
    }
    this.#failure = err;
    this.#schedule();
  }

  #adopt(real: EventStore): void {
    this.#real = real;
    real.onAppend((info) => this.#notify(info));
    this.#o.log.info(
      { attempts: this.#backoff.attempts },
      'event store opened: held events are written next',
    );
    // Sinks read nothing so far and wait for an append notice: this one sends them reading
    // (a store that existed may hold events they have not delivered).
    void real.stats().then(
      ({ lastSeq }) => this.#notify({ lastSeq, events: [] }),
      () => this.#notify({ lastSeq: 0, events: [] }),
    );
  }

  #notify(info: AppendInfo): void {
    for (const listener of this.#listeners) {
      try {
        listener(info);
      } catch (err) {
        this.#o.log.error({ err: errorMessage(err) }, 'event store append listener failed');
      }
    }
  }
}
