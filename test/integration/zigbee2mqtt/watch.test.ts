import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Z2mWatch, type Z2mState } from '../../../bridges/zigbee2mqtt/watch.js';
import { zigbee2mqttConfig } from '../../../bridges/zigbee2mqtt/config.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { MqttLink } from '../../../src/mqtt/client.js';
import { Incidents } from '../../../src/state/incidents.js';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { observer } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * The Zigbee2MQTT watch on the real embedded broker (issue 19, point 3): a stand-in for
 * Zigbee2MQTT publishes what it publishes (retained state in both forms, its last will,
 * info, devices, device states) and the watch follows it through the agent's own link.
 * Time is a manual clock: "offline for 5 minutes" is advanced, not waited for.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T0 = Date.UTC(2026, 5, 1, 12);
const MIN = 60_000;

async function site(section: Record<string, unknown> = {}) {
  const dir = await makeTempDir('z2m-watch');
  cleanups.push(() => removeTempDir(dir));
  const { broker, url } = await startEmbeddedBroker({
    dataDir: dir,
    yaml: 'broker: { listen: "127.0.0.1:0", allow_anonymous: true }\n',
  });
  cleanups.push(() => broker.stop());
  const { log, lines } = memoryLogger();
  const link = new MqttLink({
    url,
    clientId: 'outpost-z2m-test',
    protocol: '3.1.1',
    keepaliveS: 5,
    reconnectMinMs: 50,
    reconnectMaxMs: 500,
    queueLimit: 100,
    log,
  });
  await link.start();
  cleanups.push(() => link.stop());
  const clock = new ManualClock(T0);
  const incidents = new Incidents();
  const events: NewEvent[] = [];
  let state: Z2mState | undefined;
  const watch = new Z2mWatch({
    config: zigbee2mqttConfig.section.parse(section)!,
    mqtt: link,
    publish: (s) => (state = s),
    record: (e) => events.push(e),
    incidents,
    clock,
    log,
  });
  await watch.start();
  cleanups.push(() => watch.stop());
  /** Zigbee2MQTT as it connects: with its last will on bridge/state, retained. */
  const z2m = async (): Promise<MqttClient> => {
    const c = await observer(url, {
      clientId: 'zigbee2mqtt',
      will: {
        topic: 'zigbee2mqtt/bridge/state',
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1,
        retain: true,
      },
    });
    cleanups.push(() => c.endAsync(true));
    return c;
  };
  return { watch, z2m, clock, incidents, events, lines, state: () => state };
}

const pub = (c: MqttClient, topic: string, payload: string, retain = true) =>
  c.publishAsync(`zigbee2mqtt/${topic}`, payload, { qos: 1, retain });

describe('Zigbee2MQTT watch', () => {
  it('follows the JSON bridge state, info and devices, and opens an incident on the last will after 5 minutes', async () => {
    const s = await site();
    expect(s.state()?.state).toBe('unknown');
    const z = await s.z2m();
    await pub(z, 'bridge/state', '{"state":"online"}');
    await pub(
      z,
      'bridge/info',
      JSON.stringify({
        version: '2.1.0',
        coordinator: { type: 'zStack3x0', ieee_address: '0x1' },
        network: { channel: 11 },
      }),
    );
    await pub(
      z,
      'bridge/devices',
      JSON.stringify([
        { friendly_name: 'Coordinator', type: 'Coordinator' },
        { friendly_name: 'lamp', type: 'Router', definition: {} },
        { friendly_name: 'door', type: 'EndDevice' },
      ]),
    );
    await eventually(() =>
      expect(s.state()).toMatchObject({
        state: 'online',
        online: true,
        devices: 2,
        version: '2.1.0',
        coordinator: 'zStack3x0',
      }),
    );

    // Zigbee2MQTT dies without a goodbye: the broker publishes its will.
    z.stream.destroy();
    await eventually(() => expect(s.state()?.state).toBe('offline'));
    s.clock.advance(5 * MIN - 1);
    expect(s.events).toEqual([]);
    expect(s.incidents.list('zigbee2mqtt')).toEqual([]);
    s.clock.advance(1);
    expect(s.events.map((e) => [e.type, e.severity, e.subject])).toEqual([
      ['zigbee2mqtt_offline', 'error', 'zigbee2mqtt/zigbee2mqtt'],
    ]);
    const incident = s.incidents.get('zigbee2mqtt', 'zigbee2mqtt/zigbee2mqtt');
    expect(incident?.since).toBe(T0);
    expect(s.events[0]!.data).toMatchObject({
      title: 'Zigbee2MQTT offline',
      incident: { id: incident!.id, status: 'open' },
    });

    // It comes back: the incident closes with the recovery.
    const again = await s.z2m();
    await pub(again, 'bridge/state', '{"state":"online"}');
    await eventually(() =>
      expect(s.events.map((e) => e.type)).toEqual(['zigbee2mqtt_offline', 'zigbee2mqtt_online']),
    );
    expect(s.events[1]!.data).toMatchObject({ incident: { id: incident!.id, status: 'closed' } });
    expect(s.incidents.list('zigbee2mqtt')).toEqual([]);
  });

  it('reads the plain online/offline form, and a short outage raises nothing', async () => {
    const s = await site({ offline_after: '2m' });
    const z = await s.z2m();
    await pub(z, 'bridge/state', 'online');
    await eventually(() => expect(s.state()?.online).toBe(true));
    await pub(z, 'bridge/state', 'offline');
    await eventually(() => expect(s.state()?.state).toBe('offline'));
    s.clock.advance(MIN);
    await pub(z, 'bridge/state', 'online');
    await eventually(() => expect(s.state()?.state).toBe('online'));
    s.clock.advance(10 * MIN);
    expect(s.events).toEqual([]);

    await pub(z, 'bridge/state', 'offline');
    await eventually(() => expect(s.state()?.state).toBe('offline'));
    s.clock.advance(2 * MIN);
    expect(s.events.map((e) => e.type)).toEqual(['zigbee2mqtt_offline']);
  });

  it('logs a malformed payload once, naming the field, the value and what it expected, and keeps what it knew', async () => {
    const s = await site();
    const z = await s.z2m();
    await pub(z, 'bridge/info', JSON.stringify({ version: '2.1.0' }));
    await eventually(() => expect(s.state()?.version).toBe('2.1.0'));
    await pub(z, 'bridge/info', JSON.stringify({ version: 5 }), false);
    await pub(z, 'bridge/info', JSON.stringify({ version: 6 }), false);
    await pub(z, 'bridge/state', 'banana', false);
    await pub(z, 'bridge/health', JSON.stringify({ healthy: true }), false);
    await eventually(() => expect(s.state()?.healthy).toBe(true));
    const ignored = s.lines.filter((l) => l.msg.startsWith('Zigbee2MQTT payload ignored'));
    expect(ignored.map((l) => l.msg)).toEqual([
      'Zigbee2MQTT payload ignored: field version 5: expected a version string',
      'Zigbee2MQTT payload ignored: payload "banana": expected online, offline or {"state": "online"|"offline"}',
    ]);
    expect(ignored[0]).toMatchObject({
      topic: 'zigbee2mqtt/bridge/info',
      field: 'version',
      value: 5,
    });
    expect(s.state()).toMatchObject({ version: '2.1.0', state: 'unknown' });
  });

  it('counts devices whose last_seen is older than stale_after, and names them', async () => {
    const s = await site({ stale_after: '1h', stale_list_max: 1 });
    const z = await s.z2m();
    await pub(
      z,
      'bridge/devices',
      JSON.stringify(
        ['lamp', 'door', 'plug'].map((friendly_name) => ({ friendly_name, type: 'Router' })),
      ),
    );
    await pub(
      z,
      'door',
      JSON.stringify({ contact: true, last_seen: new Date(T0 - 3 * 3600_000).toISOString() }),
      false,
    );
    await pub(z, 'plug', JSON.stringify({ power: 3, last_seen: T0 - 2 * 3600_000 }), false);
    await pub(z, 'lamp', JSON.stringify({ state: 'ON', last_seen: T0 - 60_000 }), false);
    await pub(z, 'ghost', JSON.stringify({ last_seen: T0 - 9 * 3600_000 }), false); // not a device of the network
    await eventually(() =>
      expect(s.state()).toMatchObject({ devices: 3, stale: 2, stale_devices: ['door'] }),
    );
    // An hour on, the lamp has been quiet too long as well (the watch looks again every minute).
    s.clock.advance(60 * MIN);
    expect(s.state()).toMatchObject({ stale: 3, stale_devices: ['door'] });
  });
});
