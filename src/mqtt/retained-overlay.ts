import { Buffer } from 'node:buffer';

/** A retained message as the overlay keeps it; an empty payload clears the topic. */
export interface HeldRetained {
  readonly qos: number;
  readonly payload: Buffer;
  /** For a message not committed yet: the store's write count when it was stored. */
  readonly at?: number;
}

/**
 * Retained messages the retained store could not write (a full disk, a file system turned
 * read-only), newest per topic, until it can. Bounded by the topics in use, not by how long
 * the outage lasts: a topic's newer message replaces the held one, as it would the row.
 */
export class RetainedOverlay {
  readonly #held = new Map<string, HeldRetained>();

  get size(): number {
    return this.#held.size;
  }

  set(topic: string, message: HeldRetained): void {
    // Re-inserted, so take() gives them back in the order they were last set.
    this.#held.delete(topic);
    this.#held.set(topic, message);
  }

  get(topic: string): HeldRetained | undefined {
    return this.#held.get(topic);
  }

  has(topic: string): boolean {
    return this.#held.has(topic);
  }

  /** The held topics `keep` accepts, in the store's order (SQLite BINARY: UTF-8 bytes). */
  topics(keep: (topic: string) => boolean): string[] {
    return [...this.#held.keys()].filter(keep).sort(utf8Compare);
  }

  /** Everything held, oldest first; the overlay is empty afterwards. */
  take(): Array<[string, HeldRetained]> {
    const all = [...this.#held];
    this.#held.clear();
    return all;
  }
}

/** Orders strings as SQLite's BINARY collation does: by their UTF-8 bytes. */
export function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
