import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWireEvent, type NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { MqttEventSink } from '../../../src/sinks/mqtt-event-sink.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { link, observer, waitUntil } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

let broker: MosquittoBroker;

beforeAll(async () => {
  broker = await startMosquitto({ listeners: ['anonymous'], persistence: true });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

function events(n: number, from = 0): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'container_down',
    severity: 'error' as const,
    subject: `local/app-${from + i}`,
    data: { exit_code: 137, n: from + i },
  }));
}

describe('MqttEventSink: the local event stream', () => {
  it('publishes each event once acknowledged, in order, and catches up after a broker outage', async () => {
    const dir = await makeTempDir('event-sink');
    const store = SqliteEventStore.open({ dataDir: dir, node: 'site-a' });
    const root = { base: 'outpost', node: 'site-a' };
    const localLink = link({
      url: broker.url,
      availabilityTopic: 'outpost/site-a/availability',
      queueLimit: 1000,
    });
    // A persistent QoS 1 session: what the broker acknowledged reaches the test after its restart.
    const sub = await observer(broker.url, {
      clientId: 'event-sink-observer',
      clean: false,
      reconnectPeriod: 100,
    });
    const got: { topic: string; payload: string; retain: boolean; qos: number }[] = [];
    sub.on('message', (topic, payload, packet) =>
      got.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }),
    );
    await sub.subscribeAsync('outpost/site-a/events', { qos: 1 });
    const sink = new MqttEventSink({ store, mqtt: localLink, root, log: silentLogger() });
    try {
      await store.appendMany(events(5)); // before the sink existed: a first run starts at now
      await localLink.start();
      await sink.start();
      const first = await store.appendMany(events(300, 5));
      await waitUntil(() => got.length >= 300, 'the first 300');
      expect(got.slice(0, 300).map((m) => JSON.parse(m.payload) as unknown)).toEqual(
        first.map(toWireEvent),
      );
      expect(got.every((m) => !m.retain && m.qos === 1)).toBe(true);

      await broker.down();
      const during = await store.appendMany(events(300, 305));
      await broker.up();
      const ids = [...first, ...during].map((e) => e.id);
      const seen = () => [...new Set(got.map((m) => (JSON.parse(m.payload) as { id: string }).id))];
      await waitUntil(() => seen().length === ids.length, 'all 600 after the outage', 20_000);
      expect(seen()).toEqual(ids);
      await waitUntil(() => sink.status().acked === 605, 'cursor at the end');
      expect((await sink.backlog()).count).toBe(0);
    } finally {
      await sink.stop();
      await localLink.stop();
      await sub.endAsync(true);
      await store.close();
      await removeTempDir(dir);
    }
  }, 60_000);

  it("does not publish the InfluxDB history's samples, and its cursor passes them", async () => {
    const dir = await makeTempDir('event-sink');
    const store = SqliteEventStore.open({ dataDir: dir, node: 'site-a' });
    const root = { base: 'outpost', node: 'site-a' };
    const localLink = link({ url: broker.url, availabilityTopic: 'outpost/site-a/availability' });
    const sub = await observer(broker.url, { clientId: 'event-sink-samples' });
    const got: string[] = [];
    sub.on('message', (_topic, payload) => got.push(payload.toString()));
    await sub.subscribeAsync('outpost/site-a/events', { qos: 1 });
    const sink = new MqttEventSink({ store, mqtt: localLink, root, log: silentLogger() });
    try {
      await localLink.start();
      await sink.start();
      const sample: NewEvent = {
        type: 'sample',
        severity: 'debug',
        subject: 'states',
        data: { points: [{ m: 'hosts', t: { host: 'nas' }, f: { up: true } }] },
      };
      const stored = await store.appendMany([
        sample,
        ...events(1),
        sample,
        ...events(1, 1),
        sample,
      ]);
      await waitUntil(
        () => sink.status().acked === stored.at(-1)!.seq,
        'cursor past the last sample',
      );
      await waitUntil(() => got.length >= 2, 'the two events');
      const types = got.map((p) => (JSON.parse(p) as { id: string; type: string }).id);
      expect(types).toEqual([stored[1]!.id, stored[3]!.id]);
    } finally {
      await sink.stop();
      await localLink.stop();
      await sub.endAsync(true);
      await store.close();
      await removeTempDir(dir);
    }
  }, 60_000);
});
