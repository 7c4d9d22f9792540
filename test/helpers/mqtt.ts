import { randomUUID } from 'node:crypto';
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

/** Everything retained under a filter right now (see retainedArrivals: no quiet spell). */
export async function retained(
  url: string,
  filter: string,
  opts: IClientOptions = {},
): Promise<Map<string, string>> {
  const c = await observer(url, opts);
  try {
    const out = new Map<string, string>();
    for (const m of await retainedArrivals(c, [filter])) {
      if (m.payload === '')
        out.delete(m.topic); // cleared while the snapshot was taken
      else out.set(m.topic, m.payload);
    }
    return out;
  } finally {
    await c.endAsync();
  }
}

/** Topics of the sentinels below; every snapshot leaves them out. */
const SENTINELS = '~outpost-test/';

async function subscribeAll(client: MqttClient, filters: readonly string[]): Promise<void> {
  const granted = await client.subscribeAsync(
    Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])),
  );
  const refused = granted.filter((g) => g.qos >= 128);
  if (refused.length > 0)
    throw new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`);
}

/**
 * A retained message of a client's own that marks the end of the retained messages a
 * SUBSCRIBE brings, when its `filter` is the last one in that SUBSCRIBE:
 * - the embedded broker sends a SUBSCRIBE's retained messages as one stream in topic order
 *   (RetainedStore.match, one write at a time in aedes' sendRetained), and `~` sorts after
 *   every topic the tests use;
 * - mosquitto queues every retained message of a SUBSCRIBE before it reads the next packet.
 * `store` waits until the broker has it: aedes sends the PUBACK before it stores a message
 * (lib/handlers/publish.js) and the agent's broker queues publishes
 * (src/mqtt/ordered-publish.ts), so a SUBSCRIBE could overtake it.
 */
export class RetainedSentinel {
  readonly filter: string;
  readonly #client: MqttClient;
  readonly #topic: string;
  #stored = false;
  #armed = false;
  #arrived = false;
  readonly #onMessage = (topic: string, _payload: Buffer, packet: { retain?: boolean }) => {
    if (topic !== this.#topic) return;
    if (!this.#armed) this.#stored = true;
    else this.#arrived ||= packet.retain === true;
  };

  private constructor(client: MqttClient) {
    const mark = `${SENTINELS}${randomUUID()}`;
    this.#client = client;
    this.#topic = `${mark}/end`;
    this.filter = `${mark}/#`;
  }

  /** Publishes the sentinel and waits for its live copy: the broker has stored it then. */
  static async store(client: MqttClient, timeoutMs = 10_000): Promise<RetainedSentinel> {
    const s = new RetainedSentinel(client);
    client.on('message', s.#onMessage);
    await subscribeAll(client, [s.filter]);
    await client.publishAsync(s.#topic, 'end', { qos: 1, retain: true });
    await waitUntil(() => s.#stored, 'the retained sentinel to be stored', timeoutMs);
    s.#armed = true;
    return s;
  }

  /** True once the retained copy came, after `store` (subscribing again re-sends it). */
  get arrived(): boolean {
    return this.#arrived;
  }

  /** Stops listening and clears the retained message. */
  async clear(): Promise<void> {
    this.#client.removeListener('message', this.#onMessage);
    await this.#client
      .publishAsync(this.#topic, '', { qos: 1, retain: true })
      .catch(() => undefined);
  }
}

/**
 * The retained messages one SUBSCRIBE to `filters` brings, in the order they came (a topic
 * twice if the broker sent it twice). It ends on two sentinels, never on a quiet spell that
 * a slow broker could outlast: a RetainedSentinel subscribed to in the same SUBSCRIBE, and
 * a message published once the SUBACK is in (mosquitto queues all the retained messages of
 * a SUBSCRIBE before it reads the client's next packet). Empty retained messages (a topic
 * cleared while the stream ran) come as they are.
 */
export async function retainedArrivals(
  client: MqttClient,
  filters: readonly string[],
  timeoutMs = 10_000,
): Promise<{ topic: string; payload: string }[]> {
  const end = await RetainedSentinel.store(client, timeoutMs);
  const live = `${end.filter.slice(0, -1)}live`;
  const got: { topic: string; payload: string }[] = [];
  let liveSeen = false;
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (topic === live) liveSeen = true;
    else if (packet.retain && !topic.startsWith(SENTINELS))
      got.push({ topic, payload: payload.toString('utf8') });
  };
  client.on('message', onMessage);
  try {
    // Subscribing again to the sentinel's filter sends it again (MQTT 3.1.1 §3.8.4).
    await subscribeAll(client, [...filters, end.filter]);
    await client.publishAsync(live, 'live', { qos: 1 });
    await waitUntil(() => end.arrived && liveSeen, 'the sentinels', timeoutMs).catch(
      (err: Error) => {
        const state = `retained one ${end.arrived ? 'in' : 'missing'}, live one ${liveSeen ? 'in' : 'missing'}`;
        throw new Error(`${err.message} (${state}; ${got.length} retained before)`);
      },
    );
    return got;
  } finally {
    client.removeListener('message', onMessage);
    await end.clear();
  }
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
