import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { MqttLink } from '../../../src/mqtt/client.js';
import { Collector, link, observer, retained, waitUntil } from '../../helpers/mqtt.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';

let broker: MosquittoBroker;

beforeAll(async () => {
  broker = await startMosquitto({ persistence: true });
});

afterAll(async () => {
  await broker?.stop();
});

async function stopAll(...links: MqttLink[]) {
  for (const l of links) await l.stop();
}

describe('MqttLink against a real mosquitto', () => {
  it('speaks MQTT 5 with protocol auto, publishes online and offline retained', async () => {
    const l = link({ url: broker.url, availabilityTopic: 'outpost/a/availability' });
    await l.start();
    expect(l.connected).toBe(true);
    expect(l.protocolVersion).toBe(5);
    expect((await retained(broker.url, 'outpost/a/#')).get('outpost/a/availability')).toBe(
      'online',
    );
    await l.stop();
    expect((await retained(broker.url, 'outpost/a/#')).get('outpost/a/availability')).toBe(
      'offline',
    );
  });

  it('sends MQTT 5 user properties and QoS 1 through, and delivers to subscribers', async () => {
    const o = await observer(broker.url, { protocolVersion: 5 });
    const seen: Record<string, unknown>[] = [];
    o.on('message', (_t, _p, packet) => seen.push(packet.properties?.userProperties ?? {}));
    await o.subscribeAsync('outpost/b/events', { qos: 1 });
    const l = link({ url: broker.url, availabilityTopic: 'outpost/b/availability' });
    await l.start();
    await l.publish('outpost/b/events', '{"id":"e1"}', {
      qos: 1,
      properties: { userProperties: { event_id: 'e1' } },
    });
    await waitUntil(() => seen.length === 1, 'the event');
    expect(seen[0]).toEqual({ event_id: 'e1' });
    await stopAll(l);
    await o.endAsync();
  });

  it('logs in with user name and password, and is refused with a wrong one', async () => {
    const good = link({
      url: broker.authUrl,
      username: broker.username,
      password: broker.password,
    });
    await good.start();
    expect(good.connected).toBe(true);
    const bad = link({ url: broker.authUrl, username: broker.username, password: 'wrong' });
    await expect(bad.start()).rejects.toThrow(/refused/);
    await stopAll(good, bad);
  });

  it('connects over TLS, verifying the server against the CA', async () => {
    const l = link({
      url: broker.tlsUrl,
      username: broker.username,
      password: broker.password,
      ca: Buffer.from(broker.caPem),
      availabilityTopic: 'outpost/tls/availability',
    });
    await l.start();
    expect(l.connected).toBe(true);
    await l.stop();
    const untrusted = link({
      url: broker.tlsUrl,
      username: broker.username,
      password: broker.password,
    });
    await untrusted.start(1500);
    expect(untrusted.connected).toBe(false);
    await untrusted.stop();
  });

  it('receives messages on its subscriptions, again after a reconnect', async () => {
    const l = link({
      url: broker.url,
      reconnectMinMs: 50,
      availabilityTopic: 'outpost/c/availability',
    });
    const got: string[] = [];
    l.subscribe('outpost/c/cmd/+', (m) => got.push(`${m.topic}=${m.payload.toString()}`));
    await l.start();
    const o = await observer(broker.url);
    await o.publishAsync('outpost/c/cmd/ack', 'one', { qos: 1 });
    await waitUntil(() => got.length === 1, 'first command');

    await broker.restart();
    await waitUntil(() => l.connected, 'reconnect after the broker restarted', 15_000);
    const o2 = await observer(broker.url);
    await o2.publishAsync('outpost/c/cmd/ack', 'two', { qos: 1 });
    await waitUntil(() => got.length === 2, 'command after reconnect');
    expect(got).toEqual(['outpost/c/cmd/ack=one', 'outpost/c/cmd/ack=two']);
    await l.stop();
    await o.endAsync().catch(() => undefined);
    await o2.endAsync();
  });

  it('queues publishes while the broker is down, bounded, and sends them on reconnect', async () => {
    const l = link({ url: broker.url, queueLimit: 3, reconnectMinMs: 50, reconnectMaxMs: 200 });
    await l.start();
    await broker.down();
    await waitUntil(() => !l.connected, 'the link to notice the broker is gone');
    const results = ['q1', 'q2', 'q3', 'q4', 'q5'].map((p) =>
      l.publish('outpost/q/events', p, { qos: 1 }).then(
        () => 'sent',
        (e: Error) => e.message,
      ),
    );
    expect(l.queued).toBe(3);
    await broker.up();
    // Every PUBACK is in: the broker has taken q3–q5, after the link's `online`.
    expect(await Promise.all(results)).toEqual([
      expect.stringContaining('offline queue full'),
      expect.stringContaining('offline queue full'),
      'sent',
      'sent',
      'sent',
    ]);
    // A subscriber that comes only now sees none of them (they are not retained): the first
    // message it gets is a sentinel it publishes itself after subscribing.
    const o = await observer(broker.url);
    const c = await new Collector(o).subscribe('outpost/q/events');
    await o.publishAsync('outpost/q/events', 'sentinel', { qos: 1 });
    await c.waitFor(() => c.messages.some((m) => m.payload === 'sentinel'), 'the sentinel');
    expect(c.messages).toEqual([{ topic: 'outpost/q/events', payload: 'sentinel', retain: false }]);
    // The availability went back online.
    expect((await retained(broker.url, 'outpost/test/#')).get('outpost/test/availability')).toBe(
      'online',
    );
    await l.stop();
    await o.endAsync();
  });

  it('makes no reconnect attempt while held, and reconnects at once on release', async () => {
    // The retry timers run on a ManualClock that never moves: only release() can reconnect.
    const clock = new ManualClock();
    const l = link({ url: broker.url, clock, reconnectMinMs: 60_000, reconnectMaxMs: 60_000 });
    await l.start();
    // Down, not held: a retry is scheduled on the clock.
    await broker.down();
    await waitUntil(() => !l.connected, 'the link to notice the broker is gone');
    expect(clock.pendingTimers).toBe(1);
    // Held: the scheduled retry is cancelled.
    l.hold();
    expect(clock.pendingTimers).toBe(0);
    await broker.up();
    l.release();
    await waitUntil(() => l.connected, 'the link back at once after release');
    // Held while connected: the connection stays; when it is lost, nothing is scheduled.
    l.hold();
    expect(l.connected).toBe(true);
    await broker.down();
    await waitUntil(() => !l.connected, 'the link to notice the broker is gone again');
    expect(clock.pendingTimers).toBe(0);
    await broker.up();
    l.release();
    await waitUntil(() => l.connected, 'the link back after the second release');
    await l.stop();
  });
});

describe('MqttLink with a client certificate', () => {
  it('connects where the broker requires one, and is refused without', async () => {
    const b = await startMosquitto({ listeners: ['tls'], requireClientCert: true });
    try {
      const withCert = link({
        url: b.tlsUrl,
        username: b.username,
        password: b.password,
        ca: Buffer.from(b.caPem),
        cert: Buffer.from(b.ca.clientCertPem),
        key: Buffer.from(b.ca.clientKeyPem),
      });
      await withCert.start();
      expect(withCert.connected).toBe(true);
      await withCert.stop();
      const without = link({
        url: b.tlsUrl,
        username: b.username,
        password: b.password,
        ca: Buffer.from(b.caPem),
      });
      await without.start(1500);
      expect(without.connected).toBe(false);
      await without.stop();
    } finally {
      await b.stop();
    }
  });
});
