import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import type { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import { observer, waitUntil } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * Persistent sessions (clean: false) of the embedded broker outlive it: kept in SQLite in
 * the data dir (src/mqtt/session-store.ts), read back at the next start.
 */

const started: EmbeddedBroker[] = [];
const clients: mqtt.MqttClient[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  for (const b of started.splice(0)) await b.stop();
  if (dir) await removeTempDir(dir);
  dir = undefined;
});

async function start(dataDir: string) {
  const b = await startEmbeddedBroker({
    dataDir,
    yaml: 'broker: { listen: "127.0.0.1:0" }',
    log: silentLogger(),
  });
  started.push(b.broker);
  return b;
}

async function restart(b: { broker: EmbeddedBroker }, dataDir: string) {
  await b.broker.stop();
  started.splice(started.indexOf(b.broker), 1);
  return start(dataDir);
}

/** A 3.1.1 client with a persistent session, listening before its CONNACK. */
function persistent(url: string, got: string[]): mqtt.MqttClient {
  const c = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: 'z2m',
    clean: false,
    reconnectPeriod: 0,
  });
  c.on('message', (t, p) => got.push(`${t}=${p.toString()}`));
  clients.push(c);
  return c;
}

describe('embedded broker persistent sessions across a restart', () => {
  it('brings back subscriptions and queued QoS 1 messages in order, and only those not acknowledged', async () => {
    dir = await makeTempDir('sessions');
    const first = await start(dir);
    const early: string[] = [];
    const z2m = persistent(first.url, early);
    await z2m.subscribeAsync({
      'site/a/#': { qos: 1 },
      'site/b': { qos: 1 },
      'site/c': { qos: 0 },
    });
    await z2m.unsubscribeAsync('site/b');
    const pub = await observer(first.url, { clientId: 'pub' });
    clients.push(pub);
    // Delivered and acknowledged while connected: must not come again.
    await pub.publishAsync('site/a/1', 'seen', { qos: 1 });
    await waitUntil(() => early.length === 1, 'the first message');
    await z2m.endAsync();
    for (let i = 0; i < 5; i++) await pub.publishAsync(`site/a/${i}`, `away${i}`, { qos: 1 });
    await pub.publishAsync('site/b', 'unsubscribed', { qos: 1 });
    await pub.endAsync();

    const second = await restart(first, dir);
    const got: string[] = [];
    const back = persistent(second.url, got);
    await waitUntil(() => got.length >= 5, 'the queued messages');
    // No SUBSCRIBE after the restart: site/a/# and site/c are the session's.
    const pub2 = await observer(second.url, { clientId: 'pub2' });
    clients.push(pub2);
    await pub2.publishAsync('site/c', 'live', { qos: 1 });
    await pub2.publishAsync('site/b', 'still-unsubscribed', { qos: 1 });
    await pub2.publishAsync('site/a/x', 'last', { qos: 1 });
    await waitUntil(() => got.includes('site/a/x=last'), 'a live message on the restored filter');
    expect(got).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => `site/a/${i}=away${i}`),
      'site/c=live',
      'site/a/x=last',
    ]);
    expect(early).toEqual(['site/a/1=seen']);
    await back.endAsync();

    // Acknowledged after the restart: the queue is empty at the next one.
    const third = await restart(second, dir);
    const again: string[] = [];
    const once = persistent(third.url, again);
    await new Promise<void>((resolve) => once.once('connect', () => resolve()));
    const pub3 = await observer(third.url, { clientId: 'pub3' });
    clients.push(pub3);
    await pub3.publishAsync('site/a/end', 'end', { qos: 1 });
    await waitUntil(() => again.includes('site/a/end=end'), 'the end marker');
    expect(again).toEqual(['site/a/end=end']);
  });

  it('forgets a session its client ended with clean: true', async () => {
    dir = await makeTempDir('sessions');
    const first = await start(dir);
    const z2m = persistent(first.url, []);
    await z2m.subscribeAsync('site/a', { qos: 1 });
    await z2m.endAsync();
    const clean = await observer(first.url, { clientId: 'z2m', clean: true });
    await clean.endAsync();
    const pub = await observer(first.url, { clientId: 'pub' });
    clients.push(pub);
    await pub.publishAsync('site/a', 'after-clean', { qos: 1 });

    const second = await restart(first, dir);
    const got: string[] = [];
    const back = persistent(second.url, got);
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) =>
      back.once('connect', resolve),
    );
    expect(connack.sessionPresent).toBe(false);
    const pub2 = await observer(second.url, { clientId: 'pub2' });
    clients.push(pub2);
    await back.subscribeAsync('site/end', { qos: 1 });
    await pub2.publishAsync('site/end', 'end', { qos: 1 });
    await waitUntil(() => got.includes('site/end=end'), 'the end marker');
    expect(got).toEqual(['site/end=end']);
  });
});
