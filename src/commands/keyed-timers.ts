import type { Clock, TimerHandle } from '../core/clock.js';

/** One clock timer per key (an action's expiry): arming again replaces the old one. */
export class KeyedTimers {
  readonly #clock: Clock;
  readonly #timers = new Map<string, TimerHandle>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  arm(key: string, ms: number, fn: () => void): void {
    this.clear(key);
    this.#timers.set(
      key,
      this.#clock.setTimeout(() => {
        this.#timers.delete(key);
        fn();
      }, ms),
    );
  }

  clear(key: string): void {
    const t = this.#timers.get(key);
    if (t) this.#clock.clearTimeout(t);
    this.#timers.delete(key);
  }

  clearAll(): void {
    for (const key of [...this.#timers.keys()]) this.clear(key);
  }
}
