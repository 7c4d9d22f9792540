import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The one typed event bus modules talk through (docs/architecture.md "Capability modules"), as
 * Zigbee2MQTT's extensions do: a module announces what happened, and whoever cares listens,
 * so no module holds a closure into another that is assigned after construction.
 *
 * Delivery is synchronous and in subscription order. A listener that throws is logged with
 * its owner's name and the event, and the other listeners still hear it: one module's bug
 * never silences the rest. `removeAll(owner)` drops an owner's listeners when it stops.
 */
export class EventBus<Events extends object> {
  readonly #listeners = new Map<keyof Events, Listener[]>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Calls `listener` for every `name` emitted until `owner`'s listeners are removed. */
  on<K extends keyof Events>(owner: string, name: K, listener: (payload: Events[K]) => void): void {
    const list = this.#listeners.get(name) ?? [];
    list.push({ owner, fn: listener as (payload: unknown) => void });
    this.#listeners.set(name, list);
  }

  /** Tells every listener of `name`, in the order they subscribed. */
  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const list = this.#listeners.get(name);
    if (!list) return;
    // A copy: a listener may subscribe or remove while this one is delivered.
    for (const l of [...list]) {
      try {
        l.fn(payload);
      } catch (err) {
        this.#log.error(
          { owner: l.owner, event: String(name), err: errorMessage(err) },
          'event bus listener failed',
        );
      }
    }
  }

  /** Drops every listener `owner` added. */
  removeAll(owner: string): void {
    for (const [name, list] of this.#listeners) {
      const kept = list.filter((l) => l.owner !== owner);
      if (kept.length > 0) this.#listeners.set(name, kept);
      else this.#listeners.delete(name);
    }
  }

  /** How many listeners `name` has (for a module's own checks and tests). */
  listenerCount(name: keyof Events): number {
    return this.#listeners.get(name)?.length ?? 0;
  }
}

interface Listener {
  readonly owner: string;
  readonly fn: (payload: unknown) => void;
}
