import type { Clock } from './clock.js';

/**
 * The accounting of a token bucket: `rate` tokens a second accrue on the injected clock, up
 * to `capacity`. It never waits itself; the pacers that queue work on it (discovery's and
 * the uplink's) decide who waits and for how long.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  /** Starts full. A capacity below 1 is raised to 1, so one token can always be taken. */
  constructor(rate: number, capacity: number, clock: Clock) {
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new RangeError(`rate must be > 0, got ${rate}`);
    }
    this.#rate = rate;
    this.#capacity = Math.max(1, capacity);
    this.#clock = clock;
    this.#tokens = this.#capacity;
    this.#at = clock.now();
  }

  /** Adds what the time since the last refill earned, up to `cap` (the capacity by default). */
  refill(cap = this.#capacity): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(cap, this.#tokens + (elapsed * this.#rate) / 1000);
  }

  /**
   * Whether `n` tokens are there. More than the capacity can never accrue, so a full bucket
   * is enough for any `n`: what is taken beyond it is a debt that later refills pay off.
   */
  has(n = 1): boolean {
    return this.#tokens >= Math.min(n, this.#capacity);
  }

  /** Milliseconds (not rounded) of refilling until has(n) holds. */
  msUntil(n = 1): number {
    return (Math.max(0, Math.min(n, this.#capacity) - this.#tokens) * 1000) / this.#rate;
  }

  /**
   * Spends `n` tokens; the balance may go below zero. What refillAfterWait kept beyond the
   * capacity is dropped here.
   */
  take(n = 1): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens - n);
  }

  /**
   * Refills after a wait of msUntil(n) and makes sure `n` are there. Uncapped: a timer fires
   * late and waits are whole milliseconds, so the overshoot is kept as credit for the next
   * take (take() caps it); capping it here would run below the rate. At least `n`, even if
   * the clock did not move during the wait (an injected sleep): a waiter never spins.
   */
  refillAfterWait(n = 1): void {
    this.refill(Number.POSITIVE_INFINITY);
    this.#tokens = Math.max(this.#tokens, n);
  }
}
