import type { Clock, TimerHandle } from '../src/core/clock.js';
import { OutpostError } from '../src/core/errors.js';

export interface PacerOptions {
  /** Messages per second. */
  readonly rate: number;
  /** Tokens that may be spent at once after a quiet spell; 1 = strictly even spacing. */
  readonly burst?: number;
  readonly clock: Clock;
  /** Waits `ms` of the clock's time; defaults to a clock timer (cancelled by stop()). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A token bucket that paces work in arrival order. HA asks publishers to spread discovery
 * bursts out (HA_DOCS.birth): a birth message makes outpost resend every config and
 * state, which can be thousands of messages.
 */
export class Pacer {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #sleep: ((ms: number) => Promise<void>) | undefined;
  #tokens: number;
  #last: number;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #timers = new Map<TimerHandle, () => void>();

  constructor(opts: PacerOptions) {
    if (!(opts.rate > 0)) throw new RangeError(`rate must be > 0, got ${opts.rate}`);
    this.#rate = opts.rate;
    this.#burst = Math.max(1, opts.burst ?? 1);
    this.#clock = opts.clock;
    this.#sleep = opts.sleep;
    this.#tokens = this.#burst;
    this.#last = opts.clock.now();
  }

  /** Resolves when the caller may send one message; rejects once stopped. */
  take(): Promise<void> {
    const turn = this.#chain.then(() => this.#acquire());
    this.#chain = turn.catch(() => undefined);
    return turn;
  }

  /** Rejects every waiting and future take(). */
  stop(): void {
    this.#stopped = true;
    for (const [handle, wake] of this.#timers) {
      this.#clock.clearTimeout(handle);
      wake();
    }
    this.#timers.clear();
  }

  async #acquire(): Promise<void> {
    this.#checkRunning();
    this.#refill();
    if (this.#tokens < 1) {
      await this.#wait(Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
      this.#checkRunning();
      // Uncapped: a timer fires late and waits are whole milliseconds, so the overshoot
      // is kept as credit for the next message; capping it would run below the rate.
      this.#refill(Number.POSITIVE_INFINITY);
      // The wait lasted as long as one token takes, even if an injected sleep did not
      // move the clock: never spin.
      this.#tokens = Math.max(this.#tokens, 1);
    }
    this.#tokens = Math.min(this.#burst, this.#tokens - 1);
  }

  #checkRunning(): void {
    if (this.#stopped) throw new OutpostError('INTERNAL', 'pacer stopped');
  }

  #refill(cap = this.#burst): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(cap, this.#tokens + (elapsed * this.#rate) / 1000);
  }

  #wait(ms: number): Promise<void> {
    if (this.#sleep) return this.#sleep(ms);
    return new Promise((resolve) => {
      const handle = this.#clock.setTimeout(() => {
        this.#timers.delete(handle);
        resolve();
      }, ms);
      this.#timers.set(handle, resolve);
    });
  }
}
