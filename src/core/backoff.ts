/** Capped exponential backoff with full jitter: the one retry policy every reconnect uses. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** 0 = no jitter, 1 = full jitter (delay drawn from [d/2, d] at 0.5). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  readonly #opts: Required<BackoffOptions>;
  #attempt = 0;

  constructor(opts: BackoffOptions) {
    this.#opts = { factor: 2, jitter: 0.5, random: Math.random, ...opts };
  }

  /** The delay before the next attempt; each call grows the next one up to the cap. */
  next(): number {
    const { initialMs, maxMs, factor, jitter, random } = this.#opts;
    const base = Math.min(maxMs, initialMs * factor ** this.#attempt);
    this.#attempt++;
    const spread = base * jitter;
    return Math.round(base - spread + random() * spread);
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
