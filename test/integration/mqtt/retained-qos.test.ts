import type { IPublishPacket, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { observer } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * A new subscriber gets each retained message at the QoS it was granted, not above
 * ([MQTT-3.3.5-1]): Home Assistant on `homeassistant/#` at QoS 0 acknowledges none of the
 * site's ~30,000 retained configs and states (issue 15, the embedded broker's peak).
 */
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function brokerWithRetained(): Promise<string> {
  const dir = await makeTempDir('retained-qos');
  cleanups.push(() => removeTempDir(dir));
  const { broker, url } = await startEmbeddedBroker({
    dataDir: dir,
    yaml: 'broker: { listen: "127.0.0.1:0", allow_anonymous: true }\n',
  });
  cleanups.push(() => broker.stop());
  const pub = await client(url);
  await pub.publishAsync('site/lamp/state', 'on', { qos: 1, retain: true });
  await pub.publishAsync('site/door/state', 'shut', { qos: 1, retain: true });
  return url;
}

async function client(url: string): Promise<MqttClient> {
  const c = await observer(url);
  cleanups.push(() => c.endAsync());
  return c;
}

/** The QoS each retained message reached a new client at, once both arrived. */
async function retainedQosOf(
  url: string,
  subscriptions: Record<string, { qos: 0 | 1 }>,
): Promise<Record<string, number>> {
  const c = await client(url);
  const got: Record<string, number> = {};
  c.on('message', (topic, _payload, packet: IPublishPacket) => {
    if (packet.retain) got[topic] = packet.qos;
  });
  await c.subscribeAsync(subscriptions);
  await eventually(() =>
    expect(Object.keys(got).sort()).toEqual(['site/door/state', 'site/lamp/state']),
  );
  return got;
}

describe('embedded broker: QoS of retained messages to a new subscriber', () => {
  it('sends messages stored at QoS 1 at QoS 0 to a filter granted QoS 0', async () => {
    const url = await brokerWithRetained();
    expect(await retainedQosOf(url, { 'site/#': { qos: 0 } })).toEqual({
      'site/lamp/state': 0,
      'site/door/state': 0,
    });
  });

  it('sends them at QoS 1 to a filter granted QoS 1', async () => {
    const url = await brokerWithRetained();
    expect(await retainedQosOf(url, { 'site/#': { qos: 1 } })).toEqual({
      'site/lamp/state': 1,
      'site/door/state': 1,
    });
  });

  it('takes the highest QoS of the matching filters, per message', async () => {
    const url = await brokerWithRetained();
    expect(await retainedQosOf(url, { 'site/#': { qos: 0 }, 'site/lamp/+': { qos: 1 } })).toEqual({
      'site/lamp/state': 1,
      'site/door/state': 0,
    });
  });
});
