/**
 * How fast a mount fills (issue #16): used bytes sampled into a bounded ring over
 * `window`, the rate between the oldest sample inside the window and the newest, and the
 * time until the free bytes run out at that rate.
 */

/** Samples kept per mount, whatever the window and poll interval. */
export const MAX_SAMPLES = 48;

interface Sample {
  at: number;
  used: number;
}

export interface Growth {
  /** Bytes per hour over the window; null until the samples span enough of it. */
  readonly bytesPerHour: number | null;
  /** Seconds until full at that rate; null when not growing or not known. */
  readonly timeToFullS: number | null;
}

export class GrowthRate {
  readonly #windowMs: number;
  readonly #ring: Sample[] = [];
  #last: Sample | undefined;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Adds a reading; returns the growth it gives with `free` bytes left. */
  add(at: number, used: number, free: number): Growth {
    this.#last = { at, used };
    const newest = this.#ring.at(-1);
    // Kept at most every window / MAX_SAMPLES: a fast poll does not grow the ring.
    if (!newest || at - newest.at >= this.#windowMs / MAX_SAMPLES) {
      this.#ring.push({ at, used });
      if (this.#ring.length > MAX_SAMPLES) this.#ring.shift();
    }
    return this.growth(free);
  }

  /** The growth now, from the samples inside the window and the latest reading. */
  growth(free: number): Growth {
    const last = this.#last;
    if (!last) return { bytesPerHour: null, timeToFullS: null };
    const first = this.#ring.find((s) => last.at - s.at <= this.#windowMs);
    const span = first ? last.at - first.at : 0;
    // A rate from a few minutes of a six-hour window is noise: a sixth of it at least.
    if (!first || span <= 0 || span < this.#windowMs / 6) {
      return { bytesPerHour: null, timeToFullS: null };
    }
    const bytesPerHour = ((last.used - first.used) / span) * 3_600_000;
    const timeToFullS = bytesPerHour > 0 ? Math.round((free / bytesPerHour) * 3600) : null;
    return { bytesPerHour: Math.round(bytesPerHour), timeToFullS };
  }

  get samples(): number {
    return this.#ring.length;
  }
}
