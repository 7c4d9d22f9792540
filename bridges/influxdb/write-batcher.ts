import type { IPoint } from 'influx';
import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export interface WriteBatcherOptions {
  /** Writes the points; resolves once all of them are written or set aside. */
  write(points: readonly IPoint[]): Promise<void>;
  /** A flush starts once this many points wait… */
  batchSize: number;
  /** …or once the oldest waiting one has waited this long. */
  flushMs: number;
  clock: Clock;
}

/**
 * Gathers the points of the sink's deliveries into requests of `batchSize` (issue 19:
 * batched by size and interval). The sink runner keeps several deliveries in flight, so
 * a trickle of events waits up to `flushMs` and goes out as one request, and a backlog goes
 * out in full requests. Each delivery settles when its points were written; a failed flush
 * fails every delivery waiting, and the runner delivers again from its cursor.
 */
export class WriteBatcher {
  readonly #o: WriteBatcherOptions;
  #points: IPoint[] = [];
  #waiters: Waiter[] = [];
  #timer: TimerHandle | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: WriteBatcherOptions) {
    this.#o = opts;
  }

  add(points: readonly IPoint[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('InfluxDB sink stopped'));
    return new Promise<void>((resolve, reject) => {
      for (const p of points) this.#points.push(p);
      this.#waiters.push({ resolve, reject });
      if (this.#points.length >= this.#o.batchSize) this.#flush();
      else this.#timer ??= this.#o.clock.setTimeout(() => this.#flush(), this.#o.flushMs);
    });
  }

  /** Writes what waits now. */
  flushNow(): void {
    this.#flush();
  }

  /** Fails what still waits; later deliveries are refused. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    const waiters = this.#waiters;
    this.#points = [];
    this.#waiters = [];
    for (const w of waiters) w.reject(new Error('InfluxDB sink stopped'));
  }

  #flush(): void {
    this.#clearTimer();
    if (this.#waiters.length === 0) return;
    const points = this.#points;
    const waiters = this.#waiters;
    this.#points = [];
    this.#waiters = [];
    // One request at a time: a backlog goes out in seq order, and never floods InfluxDB.
    this.#chain = this.#chain.then(() =>
      this.#o.write(points).then(
        () => waiters.forEach((w) => w.resolve()),
        (err: unknown) => waiters.forEach((w) => w.reject(err)),
      ),
    );
  }

  #clearTimer(): void {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
