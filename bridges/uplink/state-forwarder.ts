import { Buffer } from 'node:buffer';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { IncomingMessage, MqttPublisher } from '../../src/mqtt/types.js';
import type { Pacer } from './rate-limit.js';
import type { TopicMap } from './topic-map.js';

export interface StateForwarderOptions {
  local: MqttPublisher;
  upstream: MqttPublisher;
  map: TopicMap;
  pacer: Pacer;
  /** Whether sending now makes sense (link up, not paused). */
  ready: () => boolean;
  log: Logger;
}

/**
 * `uplink.forward_states`: the node's retained state topics, republished upstream under
 * the prefix (retained, QoS 1). States are last-value-wins, so only the newest payload of
 * each topic is kept while the uplink is down, and everything is sent again after each
 * reconnect (an upstream broker without persistence forgets its retained messages). They
 * take the live lane of the pacer: a dashboard's current state matters more than the replay.
 */
export class StateForwarder {
  readonly #o: StateForwarderOptions;
  readonly #states = new Map<string, Buffer>();
  readonly #dirty = new Set<string>();
  #flushing = false;
  #unsubscribe: (() => void)[] = [];

  constructor(opts: StateForwarderOptions) {
    this.#o = opts;
  }

  /** Topics held (the newest payload of each). */
  get size(): number {
    return this.#states.size;
  }

  start(): void {
    const { local, upstream, map } = this.#o;
    this.#unsubscribe = [
      local.subscribe(map.stateFilter, (msg) => this.#onLocal(msg)),
      upstream.onConnect(() => {
        for (const topic of this.#states.keys()) this.#dirty.add(topic);
        this.flush();
      }),
    ];
  }

  stop(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
  }

  /** Sends what changed since it was last sent (after a resume, say). */
  flush(): void {
    void this.#flush();
  }

  #onLocal(msg: IncomingMessage): void {
    if (!this.#o.map.forwardsState(msg.topic)) return;
    this.#states.set(msg.topic, msg.payload);
    this.#dirty.add(msg.topic);
    this.flush();
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#dirty.size > 0 && this.#o.ready()) {
        const topic = this.#dirty.values().next().value!;
        this.#dirty.delete(topic);
        const payload = this.#states.get(topic)!;
        const wait = this.#o.pacer.take(Buffer.byteLength(topic) + payload.length, 'live');
        if (wait) await wait;
        this.#send(topic, payload);
      }
    } catch (err) {
      this.#o.log.debug({ err: errorMessage(err) }, 'state forwarding stopped');
    } finally {
      this.#flushing = false;
    }
  }

  #send(topic: string, payload: Buffer): void {
    const upstreamTopic = this.#o.map.map(topic);
    this.#o.upstream
      .publish(upstreamTopic, payload, { qos: 1, retain: true })
      .catch((err: unknown) => {
        // Sent again on the next connect (every state is), or sooner if it changes.
        this.#dirty.add(topic);
        this.#o.log.debug({ topic: upstreamTopic, err: errorMessage(err) }, 'state not forwarded');
      });
  }
}
