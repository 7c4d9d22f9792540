import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { OutpostError } from '../../src/core/errors.js';
import { TokenBucket } from '../../src/core/token-bucket.js';

/** What the uplink may send per second; 0 lifts a limit. */
export interface RateLimits {
  messagesPerS: number;
  /** Topic plus payload bytes. */
  bytesPerS: number;
}

export const UNLIMITED: RateLimits = Object.freeze({ messagesPerS: 0, bytesPerS: 0 });

/** Live events and state updates are served before the replay of a backlog. */
export type Lane = 'live' | 'replay';

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Token buckets over messages and bytes with two priority lanes (issue 4: a returning LTE
 * link must not be saturated by the replay, and a fresh event must not wait behind it).
 * Each bucket holds `burstS` seconds of its rate, so after an idle spell at most that much
 * goes out at once. Live waiters are served ahead of replay waiters, FIFO within a lane,
 * and everything counts against the same budget: live traffic slows the replay instead of
 * adding to it. A message larger than the byte budget goes once the bucket is full.
 */
export class Pacer {
  readonly #clock: Clock;
  /** None where the rate is 0 (unlimited). */
  readonly #msgs: TokenBucket | undefined;
  readonly #bytes: TokenBucket | undefined;
  #live: Waiter[] = [];
  #replay: Waiter[] = [];
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(limits: RateLimits, clock: Clock, burstS = 1) {
    this.#clock = clock;
    this.#msgs = bucket(nonNegative('messages per second', limits.messagesPerS), burstS, clock);
    this.#bytes = bucket(nonNegative('bytes per second', limits.bytesPerS), burstS, clock);
  }

  get unlimited(): boolean {
    return this.#msgs === undefined && this.#bytes === undefined;
  }

  /** Waiters queued in each lane. */
  get waiting(): { live: number; replay: number } {
    return { live: this.#live.length, replay: this.#replay.length };
  }

  /**
   * Takes one message of `bytes` from the budget: undefined when it may go now, else a
   * promise that resolves when it may (rejects once the pacer is closed).
   */
  take(bytes: number, lane: Lane): Promise<void> | undefined {
    if (this.#closed) return Promise.reject(closed());
    if (this.unlimited) return undefined;
    this.#refill();
    const ahead = this.#live.length + (lane === 'replay' ? this.#replay.length : 0);
    if (ahead === 0 && this.#fits(bytes)) {
      this.#consume(bytes);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      (lane === 'live' ? this.#live : this.#replay).push({ bytes, resolve, reject });
      this.#serve();
    });
  }

  /** Rejects every waiter; later takes reject too. */
  close(): void {
    this.#closed = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiters = [...this.#live, ...this.#replay];
    this.#live = [];
    this.#replay = [];
    for (const w of waiters) w.reject(closed());
  }

  #serve(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#refill();
    for (;;) {
      const lane = this.#live.length > 0 ? this.#live : this.#replay;
      const head = lane[0];
      if (!head) return;
      if (!this.#fits(head.bytes)) {
        this.#timer = this.#clock.setTimeout(() => {
          this.#timer = undefined;
          this.#serve();
        }, this.#msUntil(head.bytes));
        return;
      }
      lane.shift();
      this.#consume(head.bytes);
      head.resolve();
    }
  }

  #refill(): void {
    this.#msgs?.refill();
    this.#bytes?.refill();
  }

  #fits(bytes: number): boolean {
    return (this.#msgs?.has(1) ?? true) && (this.#bytes?.has(bytes) ?? true);
  }

  #consume(bytes: number): void {
    this.#msgs?.take(1);
    this.#bytes?.take(bytes);
  }

  #msUntil(bytes: number): number {
    const wait = Math.max(this.#msgs?.msUntil(1) ?? 0, this.#bytes?.msUntil(bytes) ?? 0);
    // At least 1 ms, so rounding can never spin the timer without progress.
    return Math.max(1, Math.ceil(wait));
  }
}

/** A bucket holding `burstS` seconds of `rate`; none for a rate of 0 (unlimited). */
function bucket(rate: number, burstS: number, clock: Clock): TokenBucket | undefined {
  return rate === 0 ? undefined : new TokenBucket(rate, rate * burstS, clock);
}

function nonNegative(what: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`uplink rate limit: ${what} ${n}: expected 0 (unlimited) or more`);
  }
  return n;
}

function closed(): OutpostError {
  return new OutpostError('MQTT_NOT_CONNECTED', 'the uplink stopped', { retryable: true });
}
