import type { Clock, TimerHandle } from '../src/core/clock.js';
import { OutpostError } from '../src/core/errors.js';
import { TokenBucket } from '../src/core/token-bucket.js';

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
 * Paces work in arrival order on a token bucket. HA asks publishers to spread discovery
 * bursts out (HA_DOCS.birth): a birth message makes outpost resend every config and
 * state, which can be thousands of messages.
 */
export class Pacer {
  readonly #bucket: TokenBucket;
  readonly #clock: Clock;
  readonly #sleep: ((ms: number) => Promise<void>) | undefined;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #timers = new Map<TimerHandle, () => void>();

  constructor(opts: PacerOptions) {
    this.#bucket = new TokenBucket(opts.rate, opts.burst ?? 1, opts.clock);
    this.#clock = opts.clock;
    this.#sleep = opts.sleep;
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
    this.#bucket.refill();
    if (!this.#bucket.has()) {
      await this.#wait(Math.ceil(this.#bucket.msUntil()));
      this.#checkRunning();
      this.#bucket.refillAfterWait();
    }
    this.#bucket.take();
  }

  #checkRunning(): void {
    if (this.#stopped) throw new OutpostError('INTERNAL', 'pacer stopped');
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
