import type { PublishOptions } from './types.js';

export interface QueuedPublish {
  topic: string;
  payload: string | Buffer;
  opts: PublishOptions;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The bounded in-memory queue for publishes made while disconnected. mqtt.js's own
 * offline queue is unbounded; this one holds at most `limit` messages, drops the oldest
 * when full and counts what it dropped. A newer retained message for the same topic
 * replaces the queued one, since only the last retained value matters to a subscriber.
 */
export class OfflineQueue {
  readonly #limit: number;
  #items: QueuedPublish[] = [];
  #retainedIndex = new Map<string, QueuedPublish>();
  #dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Adds a message; returns the messages dropped to make room (already rejected). */
  push(item: QueuedPublish, onDrop: (dropped: QueuedPublish) => Error): number {
    if (item.opts.retain) {
      const prior = this.#retainedIndex.get(item.topic);
      if (prior) {
        const i = this.#items.indexOf(prior);
        if (i >= 0) this.#items.splice(i, 1);
        prior.resolve(); // superseded: the newer value carries the meaning
      }
      this.#retainedIndex.set(item.topic, item);
    }
    this.#items.push(item);
    let dropped = 0;
    while (this.#items.length > this.#limit) {
      const old = this.#items.shift()!;
      if (old.opts.retain && this.#retainedIndex.get(old.topic) === old)
        this.#retainedIndex.delete(old.topic);
      old.reject(onDrop(old));
      dropped++;
    }
    this.#dropped += dropped;
    return dropped;
  }

  /** Takes every queued message, oldest first. */
  drain(): QueuedPublish[] {
    const items = this.#items;
    this.#items = [];
    this.#retainedIndex.clear();
    return items;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Messages dropped since the last call. */
  takeDropped(): number {
    const d = this.#dropped;
    this.#dropped = 0;
    return d;
  }
}
