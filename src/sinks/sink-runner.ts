import { Backoff } from '../core/backoff.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import type { StoredEvent } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { Backlog, EventStore } from '../store/event-store.js';

/** Hands events to a destination; resolves once the destination acknowledged all of them. */
export type Deliver<T = StoredEvent> = (events: readonly T[]) => Promise<void>;

/** Reads up to `limit` records after seq `after` from the sink's cursor, in seq order. */
export type ReadRecords<T> = (limit: number, after: number) => Promise<T[]>;

export interface SinkRunnerOptions<T extends { readonly seq: number } = StoredEvent> {
  store: EventStore;
  /** The sink's cursor name in the store. */
  name: string;
  /**
   * Called with consecutive batches in seq order, several in flight at once (up to
   * `window` events). Must settle: a promise that never settles holds its window share.
   */
  deliver: Deliver<T>;
  /**
   * How records are read (default: `store.readAfter`, whole events). A sink that only
   * publishes reads `store.readWireAfter` instead: no parsed events (issue 15).
   */
  read?: ReadRecords<T>;
  /** Events read but not yet acknowledged, at most (default 1000). */
  window?: number;
  /** Events per deliver call, at most (default 100, at most `window`). */
  batch?: number;
  /** Where a sink seen for the first time starts (default `oldest`: loses nothing). */
  startAt?: 'oldest' | 'now';
  /** Delay before re-delivering after a failure: capped, jittered (default 1 s … 60 s). */
  retry?: { initialMs: number; maxMs: number };
  /**
   * Shortest interval between cursor writes while busy (default 200 ms): each is an fsync,
   * which at tens of thousands of events per second would cost more than the delivery. An
   * idle sink writes at once. A crash re-delivers at most this much (at least once).
   */
  ackEveryMs?: number;
  /** How long `stop` waits for deliveries in flight (default 5 s). */
  stopTimeoutMs?: number;
  clock?: Clock;
  log: Logger;
}

/** Where a sink stands, without asking the store. */
export interface SinkRunnerStatus {
  name: string;
  /** The newest seq the store has durably acknowledged for this sink. */
  acked: number;
  /** Every event up to this seq was delivered (its ack may still be on the way to disk). */
  delivered: number;
  /** The newest seq handed to `deliver` (in flight or done). */
  readPosition: number;
  inFlight: number;
  paused: boolean;
  /** True from a failed delivery until the retry starts. */
  failing: boolean;
  failures: number;
}

interface Batch {
  readonly last: number;
  readonly count: number;
  done: boolean;
}

const NOOP = (): void => undefined;

/**
 * Drains the event store into one destination through the sink's own durable cursor
 * (issue 4, point 2): wakes on every append (no polling), reads ahead up to `window`
 * events, and moves the cursor only over events whose delivery was acknowledged, so a
 * crash re-delivers (at least once) and never skips. A failed delivery re-delivers from the
 * first unacknowledged event after a backoff, keeping seq order; the store keeps accepting
 * events meanwhile, so a slow or dead destination holds back nobody but itself.
 */
export class SinkRunner<T extends { readonly seq: number } = StoredEvent> implements Component {
  readonly name: string;
  readonly #store: EventStore;
  readonly #deliver: Deliver<T>;
  readonly #read: ReadRecords<T>;
  readonly #window: number;
  readonly #batch: number;
  readonly #startAt: 'oldest' | 'now';
  readonly #stopTimeoutMs: number;
  readonly #ackEveryMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  /** Batches in flight, in seq order; the head's end is where the contiguous run stops. */
  #batches: Batch[] = [];
  #inFlight = 0;
  #readPos = 0;
  #delivered = 0;
  #acked = 0;
  #running = false;
  #paused = false;
  #pumping = false;
  /** False once a short read found nothing more; an append sets it again. */
  #more = true;
  #failing = false;
  #failures = 0;
  #ackRunning = false;
  #lastAckAt = -Infinity;
  #retryTimer: TimerHandle | undefined;
  #ackTimer: TimerHandle | undefined;
  #unsubscribe: () => void = NOOP;
  #idleWaiters: (() => void)[] = [];

  constructor(opts: SinkRunnerOptions<T>) {
    this.name = opts.name;
    this.#store = opts.store;
    this.#deliver = opts.deliver;
    // Without `read`, T is StoredEvent (the default type argument): whole events.
    this.#read =
      opts.read ??
      ((limit, after) =>
        this.#store.readAfter(this.name, limit, after) as Promise<unknown[]> as Promise<T[]>);
    this.#window = positive('window', opts.window ?? 1000);
    this.#batch = Math.min(this.#window, positive('batch', opts.batch ?? 100));
    this.#startAt = opts.startAt ?? 'oldest';
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
    this.#ackEveryMs = opts.ackEveryMs ?? 200;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log.child({ sink: opts.name });
    this.#backoff = new Backoff(opts.retry ?? { initialMs: 1000, maxMs: 60_000 });
  }

  async start(): Promise<void> {
    const cursor = await this.#store.registerSink(this.name, { startAt: this.#startAt });
    this.#readPos = this.#delivered = this.#acked = cursor;
    this.#running = true;
    this.#more = true;
    this.#unsubscribe = this.#store.onAppend(() => {
      this.#more = true;
      void this.#pump();
    });
    void this.#pump();
  }

  /** Stops reading, waits (bounded) for deliveries in flight and writes the last ack. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe();
    this.#clearTimers();
    if (this.#inFlight > 0 || this.#ackRunning) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, this.#stopTimeoutMs);
        }),
      ]);
      if (timer) this.#clock.clearTimeout(timer);
    }
    if (this.#delivered > this.#acked && !this.#ackRunning) {
      await this.#store.ack(this.name, this.#delivered).then(
        () => (this.#acked = this.#delivered),
        (err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'last ack failed'),
      );
    }
  }

  /** Holds new deliveries (those in flight finish); the store keeps the events meanwhile. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    void this.#pump();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Every event up to this seq was delivered and acknowledged by the destination. */
  get delivered(): number {
    return this.#delivered;
  }

  status(): SinkRunnerStatus {
    return {
      name: this.name,
      acked: this.#acked,
      delivered: this.#delivered,
      readPosition: this.#readPos,
      inFlight: this.#inFlight,
      paused: this.#paused,
      failing: this.#failing,
      failures: this.#failures,
    };
  }

  /** What the destination has not acknowledged yet, as the store counts it. */
  backlog(): Promise<Backlog> {
    return this.#store.backlog(this.name);
  }

  #canRead(): boolean {
    if (!this.#running || this.#paused || this.#failing || !this.#more) return false;
    // Whole batches only (or anything when idle): reading a few events at a time when the
    // window is nearly full would cost a query per acknowledgement.
    const room = this.#window - this.#inFlight;
    return room >= this.#batch || this.#inFlight === 0;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#canRead()) {
        const limit = Math.min(this.#batch, this.#window - this.#inFlight);
        this.#more = false;
        let events: T[];
        try {
          events = await this.#read(limit, this.#readPos);
        } catch (err) {
          this.#fail(err);
          break;
        }
        // Stopped or failed while reading: these are read again after the retry.
        if (!this.#running || this.#failing) break;
        if (events.length === limit) this.#more = true;
        if (events.length > 0) this.#launch(events);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #launch(events: T[]): void {
    const batch: Batch = {
      last: events[events.length - 1]!.seq,
      count: events.length,
      done: false,
    };
    this.#readPos = batch.last;
    this.#batches.push(batch);
    this.#inFlight += batch.count;
    let delivery: Promise<void>;
    try {
      delivery = this.#deliver(events);
    } catch (err) {
      delivery = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    delivery.then(
      () => this.#settled(batch, undefined),
      (err: unknown) => this.#settled(batch, err ?? new Error('delivery failed')),
    );
  }

  #settled(batch: Batch, err: unknown): void {
    this.#inFlight -= batch.count;
    if (err === undefined) batch.done = true;
    else this.#fail(err);
    while (this.#batches[0]?.done) this.#delivered = this.#batches.shift()!.last;
    this.#flushAck();
    if (this.#failing) {
      if (this.#inFlight === 0) this.#scheduleRetry();
    } else {
      this.#backoff.reset();
      void this.#pump();
    }
    this.#wakeIdle();
  }

  #fail(err: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#failures++;
    if (!this.#running) return; // deliveries cut short by stop(): nothing to retry
    this.#log.warn(
      { err: errorMessage(err), from: this.#delivered + 1 },
      'delivery failed; will deliver again from the first unacknowledged event',
    );
    if (this.#inFlight === 0) this.#scheduleRetry();
  }

  /** Everything in flight has settled: start over after the oldest unacknowledged event. */
  #scheduleRetry(): void {
    if (this.#retryTimer || !this.#running) return;
    const delay = this.#backoff.next();
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      // Batches after the failed one may have succeeded; they are sent again so that the
      // destination sees the events in order (duplicates are what at-least-once allows).
      this.#batches = [];
      this.#readPos = this.#delivered;
      this.#failing = false;
      this.#more = true;
      void this.#pump();
    }, delay);
  }

  /**
   * One ack in flight at a time, always the newest contiguous seq, and at most one per
   * `ackEveryMs` while deliveries are in flight: one fsync covers many deliveries.
   */
  #flushAck(): void {
    if (this.#ackRunning || this.#delivered <= this.#acked || !this.#running) return;
    const wait = this.#lastAckAt + this.#ackEveryMs - this.#clock.now();
    if (wait > 0 && this.#inFlight > 0) return this.#ackLater(wait);
    if (this.#ackTimer) this.#clock.clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const seq = this.#delivered;
    this.#ackRunning = true;
    this.#lastAckAt = this.#clock.now();
    this.#store.ack(this.name, seq).then(
      () => {
        this.#acked = Math.max(this.#acked, seq);
        this.#ackRunning = false;
        this.#flushAck();
        this.#wakeIdle();
      },
      (err: unknown) => {
        this.#ackRunning = false;
        this.#log.warn({ err: errorMessage(err), seq }, 'cursor ack failed; retrying');
        // The delivery stands; only its record is late. A crash before the retry re-delivers.
        this.#ackLater(1000);
        this.#wakeIdle();
      },
    );
  }

  #ackLater(ms: number): void {
    this.#ackTimer ??= this.#clock.setTimeout(() => {
      this.#ackTimer = undefined;
      this.#flushAck();
    }, ms);
  }

  #wakeIdle(): void {
    if (this.#inFlight > 0 || this.#ackRunning) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #clearTimers(): void {
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    if (this.#ackTimer) this.#clock.clearTimeout(this.#ackTimer);
    this.#retryTimer = this.#ackTimer = undefined;
  }
}

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`sink runner ${what} ${n}: expected a positive integer`);
  }
  return n;
}
