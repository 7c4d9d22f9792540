import { Buffer } from 'node:buffer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimits } from '../../../bridges/uplink/rate-limit.js';
import { TopicMap } from '../../../bridges/uplink/topic-map.js';
import { UplinkBridge, type UplinkBridgeOptions } from '../../../bridges/uplink/uplink-bridge.js';
import { toWireEvent, type NewEvent, type StoredEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { MqttLink, MqttLinkOptions } from '../../../src/mqtt/client.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { link, retained, waitUntil } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { UpstreamObserver } from './upstream-observer.js';

const ROOT = { base: 'outpost', node: 'site-a' };
const PREFIX = 'sites/site-a';
const MAP = new TopicMap(ROOT, PREFIX);
const log = silentLogger();

let local: MosquittoBroker;
let upstream: MosquittoBroker;

beforeAll(async () => {
  [local, upstream] = await Promise.all([
    startMosquitto({ listeners: ['anonymous'] }),
    // Persistence keeps the central observer's session (and what waits in it) across the
    // upstream's restarts, so the test sees everything the broker acknowledged.
    startMosquitto({ persistence: true }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([local?.stop(), upstream?.stop()]);
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
  await upstream.up();
});

function events(n: number, from = 0): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'disk_pressure',
    severity: 'warning' as const,
    subject: `nas:/volume${(from + i) % 3}`,
    data: { used_pct: 90 + ((from + i) % 10), n: from + i },
  }));
}

async function openStore(): Promise<SqliteEventStore> {
  const dir = await makeTempDir('uplink-it');
  const store = SqliteEventStore.open({ dataDir: dir, node: ROOT.node });
  cleanup.push(async () => {
    await store.close();
    await removeTempDir(dir);
  });
  return store;
}

async function observe(): Promise<UpstreamObserver> {
  const o = await UpstreamObserver.connect(upstream.url, `${PREFIX}/+/+/events`);
  cleanup.push(() => o.close());
  return o;
}

/** Each bridge's upstream link, for what a test sends or checks on the bridge's connection. */
const upstreamLink = new WeakMap<UplinkBridge, MqttLink>();

function makeBridge(
  store: SqliteEventStore,
  limits: RateLimits,
  linkOpts: Partial<MqttLinkOptions> = {},
  extra: Partial<UplinkBridgeOptions> = {},
): UplinkBridge {
  const up = link({
    url: upstream.url,
    availabilityTopic: MAP.availability,
    queueLimit: 1000,
    reconnectMinMs: 50,
    reconnectMaxMs: 300,
    protocol: '5',
    ...linkOpts,
  });
  const b = new UplinkBridge({
    store,
    upstream: up,
    root: ROOT,
    topicPrefix: PREFIX,
    limits,
    window: 100,
    log,
    ...extra,
  });
  upstreamLink.set(b, up);
  cleanup.push(() => b.stop());
  return b;
}

async function appendAll(store: SqliteEventStore, n: number, chunk = 1000) {
  const out: StoredEvent[] = [];
  for (let i = 0; i < n; i += chunk) {
    out.push(...(await store.appendMany(events(Math.min(chunk, n - i), i))));
  }
  return out;
}

const UNLIMITED = { messagesPerS: 0, bytesPerS: 0 };

/** The upstream's retained messages under `filter`, once `ready` holds (or the last seen). */
async function retainedWhen(
  filter: string,
  ready: (m: Map<string, string>) => boolean,
): Promise<Map<string, string>> {
  let m = new Map<string, string>();
  for (let i = 0; i < 20 && !ready(m); i++) m = await retained(upstream.url, filter);
  return m;
}

describe('uplink bridge between two real mosquittos', () => {
  it('forwards over mqtts with a password: topic under the prefix, id in payload and user property, site availability', async () => {
    const store = await openStore();
    const central = await observe();
    const b = makeBridge(store, UNLIMITED, {
      url: upstream.tlsUrl,
      ca: Buffer.from(upstream.caPem),
      username: upstream.username,
      password: upstream.password,
    });
    await b.start();
    const stored = await store.appendMany(events(50));
    await waitUntil(() => central.has(stored.map((e) => e.id)), 'all 50 upstream');
    expect(central.ids()).toEqual(stored.map((e) => e.id));
    for (const r of central.received) {
      expect(r.topic).toBe('sites/site-a/outpost/site-a/events');
      expect(r.eventIdProperty).toBe(r.id);
    }
    const e = stored[7]!;
    expect(central.received[7]!.event).toEqual({
      id: e.id,
      ts: e.ts,
      node: 'site-a',
      type: 'disk_pressure',
      severity: 'warning',
      subject: e.subject,
      data: e.data,
    });
    // The replay builds payloads from the stored JSON text (issue 15): the bytes on the wire
    // are still exactly the documented wire form.
    expect(central.received.map((r) => r.raw)).toEqual(
      stored.map((s) => JSON.stringify(toWireEvent(s))),
    );
    const avail = () => retained(upstream.url, `${PREFIX}/#`);
    expect((await avail()).get('sites/site-a/outpost/site-a/availability')).toBe('online');
    await waitUntil(() => b.status().acked === 50, 'cursor at the end');
    await b.stop();
    expect((await avail()).get('sites/site-a/outpost/site-a/availability')).toBe('offline');
  });

  it('drains a 20k backlog from an outage complete and in order; a live event overtakes it', async () => {
    const store = await openStore();
    const central = await observe();
    await upstream.down();
    const rate = 2000;
    const b = makeBridge(store, { messagesPerS: rate, bytesPerS: 0 });
    await b.start();
    const backlog = await appendAll(store, 20_000);
    expect((await store.backlog('uplink')).count).toBe(20_000);

    await upstream.up();
    await waitUntil(() => central.received.length >= 4000, 'the drain under way', 30_000);
    const [live] = await store.appendMany(events(1, 99_999));
    await waitUntil(() => central.has([live!.id]), 'the live event', 30_000);

    const all = backlog.map((e) => e.id);
    await waitUntil(() => central.has(all), 'the whole backlog', 60_000);
    await waitUntil(() => b.status().acked === 20_001, 'cursor at the end', 10_000);
    const ids = central.ids();
    expect(ids.indexOf(live!.id)).toBeLessThan(ids.indexOf(all.at(-1)!));
    expect(central.firstOccurrences().filter((id) => id !== live!.id)).toEqual(all);
    for (const r of central.received) expect(r.eventIdProperty).toBe(r.id);
    // The pacing itself is checked against a manual clock (test/unit/uplink/rate-limit.test.ts)
    // and measured by `npm run bench`: wall-clock bounds here would race a busy machine.
  }, 120_000);

  it("sends none of the InfluxDB history's samples, replayed or live, and its cursor passes them", async () => {
    const store = await openStore();
    const central = await observe();
    await upstream.down();
    const b = makeBridge(store, { messagesPerS: 2000, bytesPerS: 0 });
    await b.start();
    const sample: NewEvent = {
      type: 'sample',
      severity: 'debug',
      subject: 'states',
      data: { points: [{ m: 'hosts', t: { host: 'nas' }, f: { up: true } }] },
    };
    const backlog = await store.appendMany(
      events(4000).flatMap((e, i) => (i % 100 === 0 ? [sample, e] : [e])),
    );
    await upstream.up();
    await waitUntil(() => central.received.length >= 500, 'the drain under way', 30_000);
    // Appended while the backlog drains: what the live lane would send ahead of it.
    const live = await store.appendMany([sample, ...events(1, 99_999), sample]);
    const all = [...backlog, ...live];
    const wanted = all.filter((e) => e.type !== 'sample').map((e) => e.id);
    await waitUntil(() => central.has(wanted), 'every event', 60_000);
    await waitUntil(() => b.status().acked === all.at(-1)!.seq, 'cursor past the last sample');
    const samples = new Set(all.filter((e) => e.type === 'sample').map((e) => e.id));
    expect(samples.size).toBe(42);
    expect(central.ids().filter((id) => samples.has(id))).toEqual([]);
  }, 120_000);

  it('survives an upstream restart in the middle of a drain: every event, in order, duplicates only', async () => {
    const store = await openStore();
    const central = await observe();
    const b = makeBridge(store, { messagesPerS: 1000, bytesPerS: 0 });
    const stored = await appendAll(store, 5000);
    await b.start();
    await waitUntil(() => central.received.length >= 1500, 'the drain under way', 20_000);
    await upstream.down();
    await waitUntil(() => !upstreamLink.get(b)!.connected, 'the bridge to see upstream gone');
    await upstream.up();
    const all = stored.map((e) => e.id);
    await waitUntil(() => central.has(all), 'every event after the restart', 40_000);
    await waitUntil(() => b.status().acked === 5000, 'cursor at the end', 10_000);
    expect(central.firstOccurrences()).toEqual(all);
    expect(b.status().failures).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('unpaced (a batch of publishes per promise), survives an upstream restart mid-drain: every event, in order', async () => {
    const store = await openStore();
    const central = await observe();
    const b = makeBridge(store, UNLIMITED);
    const stored = await appendAll(store, 20_000, 10_000);
    await b.start();
    await waitUntil(() => central.received.length >= 3000, 'the drain under way', 60_000);
    await upstream.down();
    await waitUntil(() => !upstreamLink.get(b)!.connected, 'the bridge to see upstream gone');
    await upstream.up();
    const all = stored.map((e) => e.id);
    await waitUntil(() => central.has(all), 'every event after the restart', 90_000);
    await waitUntil(() => b.status().acked === 20_000, 'cursor at the end', 10_000);
    expect(central.firstOccurrences()).toEqual(all);
    expect(b.status().failures).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it('holds everything while paused (the watchdog reports the uplink down)', async () => {
    const store = await openStore();
    const central = await observe();
    const b = makeBridge(store, UNLIMITED);
    await b.start();
    const up = upstreamLink.get(b)!;
    await waitUntil(() => up.connected && central.received.length === 0, 'connected and idle');
    b.pause('watchdog: uplink down');
    const stored = await store.appendMany(events(20));
    // A bridge that did not hold would have published them by now, on its connection: the
    // store calls its listeners before the append resolves, and from there to the publish
    // is promise callbacks only, which all run before this next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    // A sentinel on the same connection and topic comes after anything published before it.
    const sentinel = { id: 'sentinel' };
    await up.publish(MAP.events, JSON.stringify(sentinel), { qos: 1 });
    await waitUntil(() => central.has([sentinel.id]), 'the sentinel');
    expect(central.ids()).toEqual([sentinel.id]);
    b.resume();
    await waitUntil(() => central.has(stored.map((e) => e.id)), 'sent after resume');
    expect(central.firstOccurrences()).toEqual([sentinel.id, ...stored.map((e) => e.id)]);
  });

  it('forwards the node state topics upstream, retained, with the uplink state among them', async () => {
    const store = await openStore();
    const localLink = link({ url: local.url, availabilityTopic: 'outpost/site-a/availability' });
    await localLink.start();
    cleanup.push(() => localLink.stop());
    const states = {
      set: (topic: string, value: unknown) =>
        localLink.publish(topic, JSON.stringify(value), { qos: 1, retain: true }),
    };
    const b = makeBridge(store, UNLIMITED, {}, { local: localLink, forwardStates: true, states });
    await b.start();
    await localLink.publish('outpost/site-a/watchdog', '{"healthy":true}', {
      qos: 1,
      retain: true,
    });
    const up = await retainedWhen(
      `${PREFIX}/#`,
      // The first state may predate the connection; the one after it says connected.
      (m) =>
        m.get('sites/site-a/outpost/site-a/uplink')?.includes('"connected":true') === true &&
        m.has('sites/site-a/outpost/site-a/watchdog'),
    );
    expect(up.get('sites/site-a/outpost/site-a/watchdog')).toBe('{"healthy":true}');
    expect(JSON.parse(up.get('sites/site-a/outpost/site-a/uplink')!)).toMatchObject({
      connected: true,
      paused: false,
      backlog: 0,
    });
    // The site's availability upstream is the uplink's own, not the forwarded local one.
    expect(up.get('sites/site-a/outpost/site-a/availability')).toBe('online');
  });
});
