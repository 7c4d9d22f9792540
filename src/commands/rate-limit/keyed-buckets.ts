import type { Clock } from '../../core/clock.js';
import { TokenBucket } from '../../core/token-bucket.js';
import type { Burst } from './burst.js';
import type { BucketSettings } from './settings.js';

/** One client's bucket, and its run of refusals while one is open. */
export interface BucketEntry {
  readonly bucket: TokenBucket;
  burst: Burst | undefined;
}

/** Least recently used entries looked at for an idle one before the oldest is evicted. */
const EVICT_SCAN = 32;

/**
 * Token buckets by client, bounded: at most `max` entries, least recently used first. A
 * bucket that has filled up again with no burst open is worth no more than a new one, so
 * such idle entries are forgotten as traffic passes, and preferred when room is needed;
 * only when none is near the old end is the oldest evicted anyway (`onEvict` closes its
 * burst first, so no refusal goes uncounted).
 */
export class KeyedBuckets {
  readonly #settings: BucketSettings;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #onEvict: (entry: BucketEntry) => void;
  readonly #entries = new Map<string, BucketEntry>();

  constructor(
    settings: BucketSettings,
    clock: Clock,
    max: number,
    onEvict: (entry: BucketEntry) => void,
  ) {
    this.#settings = settings;
    this.#clock = clock;
    this.#max = Math.max(1, max);
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The client's entry, refilled to now; made (full) if it has none. */
  get(key: string): BucketEntry {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key); // to the young end: Map keeps insertion order
      entry.bucket.refill();
    } else {
      if (this.#entries.size >= this.#max) this.#makeRoom();
      const { rate, burst } = this.#settings;
      entry = { bucket: new TokenBucket(rate, burst, this.#clock), burst: undefined };
    }
    this.#forgetIdle();
    this.#entries.set(key, entry);
    return entry;
  }

  /** Every entry with a burst open. */
  *bursting(): Generator<BucketEntry> {
    for (const e of this.#entries.values()) if (e.burst) yield e;
  }

  #idle(entry: BucketEntry): boolean {
    if (entry.burst) return false;
    entry.bucket.refill();
    return entry.bucket.has(this.#settings.burst);
  }

  /** Drops up to two idle entries at the old end: the map shrinks as clients go quiet. */
  #forgetIdle(): void {
    for (let i = 0; i < 2; i++) {
      const oldest = this.#entries.entries().next();
      if (oldest.done || !this.#idle(oldest.value[1])) return;
      this.#entries.delete(oldest.value[0]);
    }
  }

  #makeRoom(): void {
    let scanned = 0;
    for (const [key, entry] of this.#entries) {
      if (this.#idle(entry)) {
        this.#entries.delete(key);
        return;
      }
      if (++scanned >= EVICT_SCAN) break;
    }
    const [key, entry] = this.#entries.entries().next().value!;
    this.#entries.delete(key);
    this.#onEvict(entry);
  }
}
