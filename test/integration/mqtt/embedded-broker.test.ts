import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import type { MqttLinkOptions } from '../../../src/mqtt/client.js';
import type { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import {
  Collector,
  link,
  observer,
  retained,
  retainedArrivals,
  RetainedSentinel,
  waitUntil,
} from '../../helpers/mqtt.js';
import { startOpenSslCa } from '../../helpers/openssl-ca.js';
import { getFreePort } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const started: EmbeddedBroker[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const b of started.splice(0)) await b.stop();
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

async function startBroker(yaml: string, dataDir?: string) {
  const dir = dataDir ?? (await makeTempDir('embedded'));
  if (!dataDir) dirs.push(dir);
  const { broker, url } = await startEmbeddedBroker({ dataDir: dir, yaml, log: silentLogger() });
  started.push(broker);
  return { broker, dir, url };
}

/** The agent's own link to the broker (3.1.1, as the embedded broker speaks). */
function agentLink(broker: EmbeddedBroker, opts: Partial<MqttLinkOptions> = {}) {
  return link({
    ...broker.localEndpoint(),
    protocol: '3.1.1',
    availabilityTopic: 'outpost/edge/availability',
    ...opts,
  });
}

describe('embedded broker', () => {
  it('speaks 3.1.1 only: an auto link falls back from MQTT 5', async () => {
    const { broker } = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const l = link({ ...broker.localEndpoint(), availabilityTopic: 'outpost/edge/availability' });
    await l.start();
    expect(l.connected).toBe(true);
    expect(l.protocolVersion).toBe(4);
    await l.stop();
  });

  it('keeps retained messages across a restart (SQLite in the data dir)', async () => {
    const first = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const l = agentLink(first.broker);
    await l.start();
    await l.publish('outpost/edge/hosts/local/containers/web', '{"state":"running"}', {
      qos: 1,
      retain: true,
    });
    await l.stop();
    await first.broker.stop();
    started.splice(started.indexOf(first.broker), 1);

    const again = await startBroker('broker: { listen: "127.0.0.1:0" }', first.dir);
    const seen = await retained(again.url, 'outpost/#');
    expect(seen.get('outpost/edge/hosts/local/containers/web')).toBe('{"state":"running"}');
    // the agent is not connected yet: its availability reads offline, not a stale online
    expect(seen.get('outpost/edge/availability')).toBe('offline');
  });

  it('gives back binary and UTF-8 retained payloads byte for byte after a restart', async () => {
    // UTF-8 payloads are kept as text and others as bytes (retained-store.ts): both must
    // reach a new subscriber as the bytes that were published, from memory and from disk.
    const payloads = new Map([
      ['site/raw/text', Buffer.from('{"name":"Küche ☕ 🐳"}')],
      ['site/raw/binary', Buffer.from([0xff, 0x00, 0xfe, 0x80, 0xc3])],
    ]);
    const read = async (url: string) => {
      const c = await observer(url);
      const got = new Map<string, Buffer>();
      c.on('message', (topic, payload) => got.set(topic, payload));
      await c.subscribeAsync('site/raw/#', { qos: 1 });
      await waitUntil(() => got.size === payloads.size, 'both retained payloads');
      await c.endAsync();
      return got;
    };
    const first = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const pub = await observer(first.url);
    for (const [t, p] of payloads) await pub.publishAsync(t, p, { qos: 1, retain: true });
    await pub.endAsync();
    const live = await read(first.url);
    await first.broker.stop();
    started.splice(started.indexOf(first.broker), 1);
    const again = await startBroker('broker: { listen: "127.0.0.1:0" }', first.dir);
    const stored = await read(again.url);
    for (const [t, p] of payloads) {
      expect(live.get(t)?.equals(p), `${t} before the restart`).toBe(true);
      expect(stored.get(t)?.equals(p), `${t} after the restart`).toBe(true);
    }
  });

  it('keeps a persistent session’s queued QoS 1 messages across a restart', async () => {
    const first = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const ha = await observer(first.url, { clientId: 'ha', clean: false });
    await ha.subscribeAsync('outpost/edge/events', { qos: 1 });
    await ha.endAsync();
    const l = agentLink(first.broker);
    await l.start();
    await l.publish('outpost/edge/events', 'while-ha-was-away', { qos: 1 });
    await l.stop();
    await first.broker.stop();
    started.splice(started.indexOf(first.broker), 1);

    const again = await startBroker('broker: { listen: "127.0.0.1:0" }', first.dir);
    const got: string[] = [];
    // Listen before connecting: the queued message arrives right after CONNACK.
    const back = mqtt.connect(again.url, {
      protocolVersion: 4,
      clientId: 'ha',
      clean: false,
      reconnectPeriod: 0,
    });
    back.on('message', (_t, p) => got.push(p.toString()));
    await waitUntil(() => got.length === 1, 'the queued message');
    expect(got).toEqual(['while-ha-was-away']);
    await back.endAsync();
  });

  it('requires a user when anonymous access is off, and checks passwords', async () => {
    const { url } = await startBroker(
      'broker: { listen: "127.0.0.1:0", allow_anonymous: false, users: [{ username: ha, password: pw-1234 }] }',
    );
    await expect(observer(url)).rejects.toThrow(/Not authorized/i);
    await expect(observer(url, { username: 'ha', password: 'nope' })).rejects.toThrow(
      /Bad username or password/i,
    );
    const ok = await observer(url, { username: 'ha', password: 'pw-1234' });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });

  it('denies publishing to the agent’s topics and closes the offender; commands pass', async () => {
    const { broker, url } = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const agent = agentLink(broker);
    const commands: string[] = [];
    agent.subscribe('outpost/edge/cmd/+', (m) => commands.push(m.payload.toString()));
    await agent.start();

    const intruder = await observer(url);
    const closed = new Promise<void>((r) => intruder.once('close', () => r()));
    intruder.publish('outpost/edge/availability', 'offline', { qos: 1, retain: true });
    await closed;
    expect(
      (await retained(url, 'outpost/edge/availability')).get('outpost/edge/availability'),
    ).toBe('online');

    const user = await observer(url);
    await user.publishAsync('outpost/edge/cmd/ack', '{"id":"1"}', { qos: 1 });
    await waitUntil(() => commands.length === 1, 'the command to reach the agent');
    await user.endAsync();
    intruder.end(true);
    await agent.stop();
  });

  it('refuses a subscription outside a user’s list with a failure SUBACK, staying connected', async () => {
    const { url } = await startBroker(
      'broker: { listen: "127.0.0.1:0", users: [{ username: ro, password: pw-1234, subscribe: ["outpost/+/availability"] }] }',
    );
    const c = await observer(url, { username: 'ro', password: 'pw-1234' });
    const granted = await c.subscribeAsync('outpost/edge/availability');
    expect(granted.map((g) => g.qos)).toEqual([0]);
    await expect(c.subscribeAsync('outpost/#')).rejects.toThrow(/Subscribe error/);
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('serves TLS with the configured certificate', async () => {
    const dir = await makeTempDir('embedded-tls');
    dirs.push(dir);
    const ca = await startOpenSslCa(dir);
    const tlsPort = await getFreePort();
    const { broker } = await startBroker(
      `broker: { listen: "127.0.0.1:0", tls: { listen: "127.0.0.1:${tlsPort}", cert_file: ${ca.serverCertFile}, key_file: ${ca.serverKeyFile} } }`,
    );
    expect(broker.tlsPort).toBe(tlsPort);
    const c = await observer(`mqtts://127.0.0.1:${tlsPort}`, { ca: ca.caPem });
    const col = await new Collector(c).subscribe('outpost/edge/availability');
    await col.waitFor(
      () => col.last('outpost/edge/availability') === 'offline',
      'retained availability over TLS',
    );
    await c.endAsync();
    await expect(observer(`mqtts://127.0.0.1:${tlsPort}`)).rejects.toThrow(
      /self.signed|unable to verify|certificate/i,
    );
  });
});

describe('embedded broker TLS with client certificates', () => {
  it('refuses TLS clients without a certificate signed by ca_file', async () => {
    const dir = await makeTempDir('embedded-mtls');
    dirs.push(dir);
    const ca = await startOpenSslCa(dir);
    const tlsPort = await getFreePort();
    await startBroker(
      `broker: { listen: "127.0.0.1:0", tls: { listen: "127.0.0.1:${tlsPort}", cert_file: ${ca.serverCertFile}, key_file: ${ca.serverKeyFile}, ca_file: ${ca.caFile}, require_client_cert: true } }`,
    );
    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const ok = await observer(url, { ca: ca.caPem, cert: ca.clientCertPem, key: ca.clientKeyPem });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
    await expect(observer(url, { ca: ca.caPem })).rejects.toThrow();
  });
});

describe('embedded broker delivery order', () => {
  // aedes drops a message for a client when one with a higher broker counter reached that
  // client first (its dedupe for overlapping subscriptions); with LevelDB persistence the
  // retained store makes later messages overtake earlier ones (moscajs/aedes#955, #994).
  it.each([true, false])(
    'delivers every message, in order, to a live subscriber (persistence: %s)',
    async (persistence) => {
      const { broker, url } = await startBroker(
        `broker: { listen: "127.0.0.1:0", persistence: ${persistence} }`,
      );
      const agent = agentLink(broker, { queueLimit: 10_000 });
      await agent.start();
      const z2m = await observer(url);
      const ha = await observer(url);
      const got = new Map<string, number[]>();
      ha.on('message', (topic, payload) => {
        const list = got.get(topic) ?? [];
        list.push(Number(payload.toString()));
        got.set(topic, list);
      });
      await ha.subscribeAsync({ 'outpost/edge/#': { qos: 1 }, 'zigbee2mqtt/#': { qos: 0 } });
      const states = [0, 1, 2, 3, 4].map((i) => `outpost/edge/hosts/nas/containers/c${i}`);
      const rounds = 60;
      for (let r = 1; r <= rounds; r++) {
        const sends: Promise<unknown>[] = [];
        for (const t of states) sends.push(agent.publish(t, String(r), { qos: 1, retain: true }));
        sends.push(agent.publish('outpost/edge/events', String(r), { qos: 1 }));
        sends.push(z2m.publishAsync('zigbee2mqtt/porch', String(r), { qos: 0 }));
        await Promise.all(sends);
      }
      const topics = [...states, 'outpost/edge/events', 'zigbee2mqtt/porch'];
      const complete = () => topics.every((t) => got.get(t)?.at(-1) === rounds);
      await waitUntil(complete, 'the last round on every topic').catch(() => undefined);
      for (const t of topics) {
        const want = Array.from({ length: rounds }, (_, i) => i + 1);
        expect({ topic: t, values: got.get(t) }).toEqual({ topic: t, values: want });
      }
      await agent.stop();
      await z2m.endAsync();
      await ha.endAsync();
    },
  );
});

describe('embedded broker retained messages racing live ones', () => {
  // aedes writes a new subscriber's retained messages from a stream beside live delivery
  // (lib/handlers/subscribe.js, completeSubscribe): a retained copy read before an update
  // reached the store must not arrive after that update, or a state republished only on
  // change stays stale at the subscriber (MQTT-3.3.1-6: the newest retained value).
  it('leaves each new subscriber with the newest value of every topic', async () => {
    const { broker, url } = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const agent = agentLink(broker, { queueLimit: 10_000 });
    await agent.start();
    // More topics than the retained store reads per page, so streams span several pages.
    const topics = Array.from(
      { length: 1500 },
      (_, i) => `outpost/edge/hosts/nas/containers/c${String(i).padStart(4, '0')}`,
    );
    const newest = new Map<string, string>();
    const publishAll = async (value: string) => {
      // Against the order the store streams topics in, so an update meets the stream.
      const sends = topics
        .toReversed()
        .map((t) => agent.publish(t, value, { qos: 1, retain: true }));
      await Promise.all(sends);
      for (const t of topics) newest.set(t, value);
    };
    await publishAll('0');

    const subscribers = await Promise.all([1, 2, 3].map(() => observer(url)));
    const last = subscribers.map(() => new Map<string, string>());
    subscribers.forEach((s, i) =>
      s.on('message', (topic, payload) => last[i]!.set(topic, payload.toString())),
    );
    // Each one's retained messages end with a sentinel of its own (RetainedSentinel).
    const ends = await Promise.all(subscribers.map((s) => RetainedSentinel.store(s)));
    // They subscribe while every state changes, as Home Assistant may at any moment.
    const subscribed = subscribers.map((s, i) =>
      s.subscribeAsync({ 'outpost/edge/hosts/#': { qos: 1 }, [ends[i]!.filter]: { qos: 1 } }),
    );
    await publishAll('1');
    await Promise.all(subscribed);
    // After it no retained copy can come, stale or not.
    await waitUntil(() => ends.every((e) => e.arrived), 'the end of every retained stream');

    const stale = () =>
      last.flatMap((seen, i) =>
        topics
          .filter((t) => seen.get(t) !== newest.get(t))
          .map((t) => `subscriber ${i} ${t}: ${seen.get(t)} not ${newest.get(t)}`),
      );
    await waitUntil(() => stale().length === 0, 'the newest value everywhere').catch(
      () => undefined,
    );
    const left = stale();
    expect({ stale: left.length, first: left.slice(0, 3) }).toEqual({ stale: 0, first: [] });
    for (const e of ends) await e.clear();
    await Promise.all(subscribers.map((s) => s.endAsync()));
    await agent.stop();
  });
});

describe('embedded broker retained store', () => {
  it('says once that sessions an older version kept in LevelDB are not read', async () => {
    const dir = await makeTempDir('embedded');
    dirs.push(dir);
    mkdirSync(join(dir, 'broker')); // what an older version left
    const yaml = 'broker: { listen: "127.0.0.1:0" }';
    const said = (lines: Array<{ msg: string }>) =>
      lines.filter((l) => l.msg.startsWith('persistent sessions an older version')).length;
    const first = await startEmbeddedBroker({ dataDir: dir, yaml });
    started.push(first.broker);
    expect(said(first.lines)).toBe(1);
    await first.broker.stop();
    started.splice(started.indexOf(first.broker), 1);
    const again = await startEmbeddedBroker({ dataDir: dir, yaml });
    started.push(again.broker);
    expect(said(again.lines)).toBe(0);
  });

  it('gives a new subscriber each matching retained message once, by its filters', async () => {
    const { broker, url } = await startBroker('broker: { listen: "127.0.0.1:0" }');
    const agent = agentLink(broker);
    await agent.start();
    const topicsSent = [
      'outpost/edge/hosts/nas/containers/a',
      'outpost/edge/hosts/nas/containers/b',
      'outpost/edge/hosts/local/containers/a',
      'outpost/edge/watchdog',
    ];
    for (const t of topicsSent) await agent.publish(t, t, { qos: 1, retain: true });
    await agent.publish('outpost/edge/hosts/nas/containers/b', '', { qos: 1, retain: true });
    const sub = await observer(url);
    // Overlapping filters in one SUBSCRIBE: each retained message still comes once.
    const got = await retainedArrivals(sub, [
      'outpost/edge/hosts/+/containers/a',
      'outpost/edge/hosts/nas/#',
    ]);
    expect(got.map((m) => m.topic).sort()).toEqual([
      'outpost/edge/hosts/local/containers/a',
      'outpost/edge/hosts/nas/containers/a',
    ]);
    await sub.endAsync();
    await agent.stop();
  });
});
