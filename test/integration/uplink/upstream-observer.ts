import type { MqttClient } from 'mqtt';
import type { WireEvent } from '../../../src/core/events.js';
import { observer } from '../../helpers/mqtt.js';

/** One event as the central side received it. */
export interface Received {
  topic: string;
  id: string;
  /** The MQTT 5 user property `event_id`. */
  eventIdProperty: string | undefined;
  /** Date.now() on arrival. */
  at: number;
  event: WireEvent;
  /** The payload as it came over the wire. */
  raw: string;
}

/**
 * The central side: an MQTT 5 subscriber on the upstream broker with a persistent session
 * (clean: false, QoS 1), so what arrives while it reconnects after a broker restart waits
 * for it instead of being lost to the test.
 */
export class UpstreamObserver {
  readonly received: Received[] = [];
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (topic, payload, packet) => {
      const raw = payload.toString('utf8');
      const event = JSON.parse(raw) as WireEvent;
      const prop = packet.properties?.userProperties?.event_id;
      this.received.push({
        topic,
        id: event.id,
        eventIdProperty: Array.isArray(prop) ? prop[0] : prop,
        at: Date.now(),
        event,
        raw,
      });
    });
  }

  static async connect(url: string, filter: string): Promise<UpstreamObserver> {
    const client = await observer(url, {
      protocolVersion: 5,
      clientId: `central-${Math.random().toString(16).slice(2, 10)}`,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 100,
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return new UpstreamObserver(client);
  }

  ids(): string[] {
    return this.received.map((r) => r.id);
  }

  /** Ids with later duplicates removed: what a downstream dedup by id keeps, in order. */
  firstOccurrences(): string[] {
    return [...new Set(this.ids())];
  }

  has(ids: Iterable<string>): boolean {
    const seen = new Set(this.ids());
    for (const id of ids) if (!seen.has(id)) return false;
    return true;
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
