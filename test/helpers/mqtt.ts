import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { silentLogger } from '../../src/core/logger.js';
import { MqttLink, type MqttLinkOptions } from '../../src/mqtt/client.js';

/** A plain mqtt.js client for observing from the outside (3.1.1 unless told otherwise). */
export async function observer(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
}

/** Subscribes and collects messages; `waitFor` resolves when a predicate holds. */
export class Collector {
  readonly messages: { topic: string; payload: string; retain: boolean }[] = [];
  readonly #client: MqttClient;

  constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    });
  }

  async subscribe(filter: string): Promise<this> {
    await this.#client.subscribeAsync(filter, { qos: 1 });
    return this;
  }

  last(topic: string): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--)
      if (this.messages[i]!.topic === topic) return this.messages[i]!.payload;
    return undefined;
  }

  async waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await waitUntil(pred, what, timeoutMs);
  }
}

export async function waitUntil(
  pred: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Everything retained under a filter right now (collects until the flow goes quiet). */
export async function retained(
  url: string,
  filter: string,
  opts: IClientOptions = {},
): Promise<Map<string, string>> {
  const c = await observer(url, opts);
  const out = new Map<string, string>();
  let last = Date.now();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) out.set(topic, payload.toString('utf8'));
    last = Date.now();
  });
  await c.subscribeAsync(filter, { qos: 1 });
  while (Date.now() - last < 300) await new Promise((r) => setTimeout(r, 50));
  await c.endAsync();
  return out;
}

/** An MqttLink with test defaults. */
export function link(opts: Partial<MqttLinkOptions> & { url: string }): MqttLink {
  return new MqttLink({
    clientId: `t-${Math.random().toString(16).slice(2, 10)}`,
    protocol: 'auto',
    availabilityTopic: 'outpost/test/availability',
    keepaliveS: 5,
    reconnectMinMs: 50,
    reconnectMaxMs: 500,
    queueLimit: 100,
    log: silentLogger(),
    ...opts,
  });
}

/** Reads until the value satisfies `ok` (every 200 ms), or fails naming what it waited for. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
