import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Component } from '../core/lifecycle.js';
import type { MqttPublisher } from './types.js';

/** A retained state to resend (after HA's birth message, or as a heartbeat). */
export interface RetainedState {
  readonly topic: string;
  readonly payload: string;
}

/** A state's payload on the wire: a string as is, anything else as JSON. */
export function statePayload(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Publishes retained state topics only when their content changes (message economy on a
 * metered link), remembers the last value of each for republishing, and clears a topic
 * with an empty retained payload when its subject goes away.
 *
 * A component that already keeps its own states and publishes only their changes (the
 * container tracker: thousands of them) registers as a source instead: its states are
 * sent through `publish` without a copy here, and listed from the source when everything
 * is republished.
 */
export class StatePublisher implements Component {
  readonly name = 'state-publisher';
  readonly #mqtt: MqttPublisher;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #heartbeatMs: number | undefined;
  readonly #states = new Map<string, string>();
  readonly #sources: (() => Iterable<RetainedState>)[] = [];
  #timer: TimerHandle | undefined;

  constructor(opts: { mqtt: MqttPublisher; log: Logger; clock: Clock; heartbeatMs?: number }) {
    this.#mqtt = opts.mqtt;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#heartbeatMs = opts.heartbeatMs;
  }

  start(): Promise<void> {
    this.#scheduleHeartbeat();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** Publishes `value` (a string as is, anything else as JSON) if it differs from the last. */
  set(topic: string, value: unknown): Promise<void> {
    const payload = statePayload(value);
    if (this.#states.get(topic) === payload) return Promise.resolve();
    this.#states.set(topic, payload);
    return this.#send(topic, payload);
  }

  /**
   * Publishes a state a registered source owns: not compared, not kept (the source lists
   * it again for republishing).
   */
  publish(topic: string, value: unknown): Promise<void> {
    return this.#send(topic, statePayload(value));
  }

  /** Adds the states a component keeps itself to everything republished. */
  addSource(states: () => Iterable<RetainedState>): void {
    this.#sources.push(states);
  }

  /** Clears a retained state (empty payload) and forgets it. */
  clear(topic: string): Promise<void> {
    this.#states.delete(topic);
    return this.#send(topic, '');
  }

  /** Every state currently held here or by a source, for republishing; built as it is read. */
  *current(): Generator<RetainedState> {
    for (const [topic, payload] of this.#states) yield { topic, payload };
    for (const source of this.#sources) yield* source();
  }

  #send(topic: string, payload: string): Promise<void> {
    return this.#mqtt.publish(topic, payload, { qos: 1, retain: true }).catch((err: unknown) => {
      this.#log.warn({ topic, err: errorMessage(err) }, 'state publish failed');
    });
  }

  #scheduleHeartbeat(): void {
    if (!this.#heartbeatMs) return;
    this.#timer = this.#clock.setTimeout(() => {
      for (const s of this.current()) void this.#send(s.topic, s.payload);
      this.#scheduleHeartbeat();
    }, this.#heartbeatMs);
  }
}
