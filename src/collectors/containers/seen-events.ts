import type { EngineEvent } from '../../hosts/engine-events.js';

/** Where an event line came from: the engine's /events stream or podman's events file. */
export type EventSource = 'stream' | 'file';

/**
 * The same engine events from two sources (podman's events file, read by the agent, and
 * podman's /events API, which reads that same file back up to ~250 ms later): each event
 * is acted on once, from whichever source brought it first; the other's copy (same
 * container, same action, same engine time to the ns) is dropped. Bounded: a copy that
 * never comes (the stream was down) ages out once `limit` newer events were seen.
 */
export class SeenEvents {
  readonly #limit: number;
  /** Events seen from one source only, by key, in the order seen. */
  readonly #waiting = new Map<string, EventSource>();

  constructor(limit = 1024) {
    this.#limit = limit;
  }

  /** true: the first copy of this event, act on it; false: the other source's copy. */
  first(e: EngineEvent, source: EventSource): boolean {
    const key = `${e.id} ${e.action} ${e.timeNano}`;
    const had = this.#waiting.get(key);
    if (had !== undefined && had !== source) {
      this.#waiting.delete(key);
      return false;
    }
    this.#waiting.delete(key);
    this.#waiting.set(key, source);
    if (this.#waiting.size > this.#limit) {
      this.#waiting.delete(this.#waiting.keys().next().value!);
    }
    return true;
  }

  get size(): number {
    return this.#waiting.size;
  }
}
