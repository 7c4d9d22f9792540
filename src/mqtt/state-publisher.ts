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

/**
 * Publishes retained state topics only when their content changes (message economy on a
 * metered link), remembers the last value of each for republishing, and clears a topic
 * with an empty retained payload when its subject goes away.
 */
export class StatePublisher implements Component {
  readonly name = 'state-publisher';
  readonly #mqtt: MqttPublisher;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #heartbeatMs: number | undefined;
  readonly #states = new Map<string, string>();
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
    const payload = typeof value === 'string' ? value : JSON.stringify(value);
    if (this.#states.get(topic) === payload) return Promise.resolve();
    this.#states.set(topic, payload);
    return this.#send(topic, payload);
  }

  /** Clears a retained state (empty payload) and forgets it. */
  clear(topic: string): Promise<void> {
    this.#states.delete(topic);
    return this.#send(topic, '');
  }

  /** Every state currently held, for republishing. */
  current(): RetainedState[] {
    return [...this.#states].map(([topic, payload]) => ({ topic, payload }));
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
