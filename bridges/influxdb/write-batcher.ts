import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** One write request: its lines, and the deliveries whose last line it holds. */
interface Request {
  readonly lines: string[];
  readonly waiters: Waiter[];
  state: 'waiting' | 'sending' | 'done' | 'failed';
  error?: unknown;
}

export interface WriteBatcherOptions {
  /**
   * Writes one request's lines; resolves once all of them are written or set aside.
   * `before` settles when the request before it did: a writer that has to take a request
   * apart (points refused) waits for it, so refusals are told in seq order.
   */
  write(lines: readonly string[], before: Promise<unknown>): Promise<void>;
  /** Lines per request: a request goes out once this many wait… */
  batchSize: number;
  /** …or once the oldest waiting one has waited this long. */
  flushMs: number;
  /** Requests written at once, at most (default 2). */
  inFlight?: number;
  clock: Clock;
}

/**
 * Gathers the lines of the sink's deliveries into requests of `batchSize` lines (issue 19:
 * batched by size and interval) and writes up to `inFlight` of them at once, so the next
 * request is ready while InfluxDB takes the one before (issue 19 point 4). The runner keeps
 * several deliveries in flight, so a trickle waits up to `flushMs` and goes out as one
 * request, and a backlog goes out in full ones.
 *
 * Deliveries settle in order: each when the request holding its last line and every
 * request before it were written. A failed request fails its deliveries and every later
 * one (those not sent yet are not sent), and the runner delivers again from its cursor:
 * the points of requests that landed meanwhile are written again over themselves (their
 * timestamps are the events' own), so InfluxDB holds each once.
 */
export class WriteBatcher {
  readonly #o: WriteBatcherOptions;
  readonly #max: number;
  #lines: string[] = [];
  #waiters: Waiter[] = [];
  /** Requests not yet settled with their deliveries, oldest first. */
  #queue: Request[] = [];
  #sending = 0;
  /** Settles when the last request sent did. */
  #last: Promise<unknown> = Promise.resolve();
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(opts: WriteBatcherOptions) {
    this.#o = opts;
    this.#max = opts.inFlight ?? 2;
  }

  /** Adds one delivery's lines; settles when they are written (see the class). */
  add(lines: readonly string[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('InfluxDB sink stopped'));
    return new Promise<void>((resolve, reject) => {
      const size = this.#o.batchSize;
      for (const l of lines) {
        this.#lines.push(l);
        if (this.#lines.length >= size) this.#seal();
      }
      this.#waiters.push({ resolve, reject });
      if (this.#lines.length === 0) this.#seal();
      else this.#timer ??= this.#o.clock.setTimeout(() => this.flushNow(), this.#o.flushMs);
      this.#send();
    });
  }

  /** Writes what waits now. */
  flushNow(): void {
    this.#clearTimer();
    if (this.#lines.length > 0 || this.#waiters.length > 0) this.#seal();
    this.#send();
  }

  /** Fails what still waits; later deliveries are refused. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    const err = new Error('InfluxDB sink stopped');
    const queue = this.#queue;
    this.#queue = [];
    for (const r of queue) if (r.state !== 'sending') r.state = 'failed';
    for (const w of this.#waiters) w.reject(err);
    for (const r of queue) for (const w of r.waiters) w.reject(err);
    this.#lines = [];
    this.#waiters = [];
  }

  /** The lines gathered so far become a request (with the deliveries that end in it). */
  #seal(): void {
    if (this.#lines.length === 0 && this.#waiters.length === 0) return;
    this.#queue.push({ lines: this.#lines, waiters: this.#waiters, state: 'waiting' });
    this.#lines = [];
    this.#waiters = [];
    this.#clearTimer();
  }

  #send(): void {
    for (const r of this.#queue) {
      if (this.#sending >= this.#max || r.state === 'failed') break; // none after a failure
      if (r.state !== 'waiting') continue;
      if (r.lines.length === 0) {
        r.state = 'done';
        continue;
      }
      r.state = 'sending';
      this.#sending++;
      const written = this.#o.write(r.lines, this.#last);
      this.#last = written.catch(() => undefined);
      written.then(
        () => this.#finished(r, undefined),
        (err: unknown) => this.#finished(r, err ?? new Error('write failed')),
      );
    }
    this.#settle();
  }

  #finished(r: Request, err: unknown): void {
    this.#sending--;
    if (r.state !== 'sending') return; // closed meanwhile
    r.state = err === undefined ? 'done' : 'failed';
    r.error = err;
    this.#send();
  }

  /** Settles the deliveries of the written requests at the head; a failure fails the rest. */
  #settle(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.state === 'done') {
        this.#queue.shift();
        for (const w of head.waiters) w.resolve();
      } else if (head.state === 'failed') {
        // Deliveries after it are delivered again too: what waits is dropped with them.
        const rest = this.#queue;
        rest.push({ lines: [], waiters: this.#waiters, state: 'waiting' });
        this.#queue = [];
        this.#lines = [];
        this.#waiters = [];
        this.#clearTimer();
        // Requests still being written finish on their own; their answers are not awaited.
        for (const r of rest) {
          if (r.state === 'waiting') r.state = 'failed';
          for (const w of r.waiters) w.reject(head.error);
        }
        return;
      } else return;
    }
  }

  #clearTimer(): void {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
