import { afterEach, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { FakeHomeAssistant } from '../../helpers/fake-home-assistant.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { observer, pollUntil, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';

const TOKEN = 'fake-ha-token-for-the-service-devices-test';
const AGENT_ID = 'outpost_edge';
const HA_ID = 'outpost_edge_service_home_assistant';
const Z2M_ID = 'outpost_edge_service_zigbee2mqtt';

interface Device {
  identifiers: string[];
  name: string;
  via_device?: string;
  sw_version?: string;
  model?: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function yaml(port: number, dir: string, o: { haUrl?: string; deviceBased: boolean }): string {
  const bridges = o.haUrl
    ? `home_assistant:
  url: ${o.haUrl}
  token_env: HA_TOKEN
  timeout: 2s
  reconnect_min: 100ms
  reconnect_max: 300ms
zigbee2mqtt: { stale_after: 1h }
`
    : '';
  return `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
discovery: { device_based: ${o.deviceBased} }
hosts: [{ id: local }]
${bridges}`;
}

/** Retained discovery messages, parsed. */
async function configs(url: string): Promise<Map<string, Record<string, unknown>>> {
  const found = await retained(url, 'homeassistant/#');
  return new Map([...found].map(([t, p]) => [t, JSON.parse(p) as Record<string, unknown>]));
}

/**
 * The Home Assistant bridge's and the Zigbee2MQTT watch's entities on devices of their own
 * (issues 18 and 19), as the agent process publishes them on its embedded broker: a fake
 * HA says its version, a stand-in for Zigbee2MQTT publishes its retained `bridge/info`;
 * each device block names the service, its version and the agent as via_device. Turning
 * the bridges off (a restart on the same data without their sections) removes them all.
 */
describe('service devices of a running agent', () => {
  async function site(deviceBased: boolean) {
    const ha = await FakeHomeAssistant.start({ tokens: [TOKEN] });
    cleanups.push(() => ha.stop());
    const port = await getFreePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const agent = await spawnAgent((dir) => yaml(port, dir, { haUrl: ha.url, deviceBased }), {
      HA_TOKEN: TOKEN,
    });
    let current: AgentProcess = agent;
    cleanups.push(() => current.cleanup());
    await agent.running(30_000);
    const zigbee = await observer(url);
    cleanups.push(() => zigbee.endAsync());
    await zigbee.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { retain: true });
    await zigbee.publishAsync(
      'zigbee2mqtt/bridge/info',
      JSON.stringify({ version: '2.6.0', coordinator: { type: 'zStack3x0' } }),
      { retain: true, qos: 1 },
    );
    const restartWithout = async () => {
      await agent.stop();
      current = await spawnAgent((d) => yaml(port, d, { deviceBased }), {}, { dir: agent.dir });
      await current.running(30_000);
    };
    return { ha, url, restartWithout };
  }

  /** Every device block in the retained configs, by its first identifier. */
  function devices(found: Map<string, Record<string, unknown>>): Map<string, Device> {
    const out = new Map<string, Device>();
    for (const p of found.values()) {
      const d = p.device as Device | undefined;
      if (d) out.set(d.identifiers[0]!, d);
    }
    return out;
  }

  it('per entity: HA and Zigbee2MQTT entities on their devices, gone with the bridges', async () => {
    const { ha, url, restartWithout } = await site(false);
    const found = await pollUntil(
      () => configs(url),
      (m) => {
        const d = devices(m);
        return d.get(HA_ID)?.sw_version === ha.haVersion && d.get(Z2M_ID)?.sw_version === '2.6.0';
      },
      'the service devices with their versions',
      60_000,
    );
    const link = found.get(`homeassistant/binary_sensor/${AGENT_ID}/home_assistant_link/config`)!;
    expect(link.unique_id).toBe(`${AGENT_ID}_home_assistant_link`);
    expect(link.device).toMatchObject({
      identifiers: [HA_ID],
      name: 'Home Assistant',
      via_device: AGENT_ID,
      sw_version: ha.haVersion,
    });
    const count = found.get(`homeassistant/sensor/${AGENT_ID}/zigbee2mqtt_devices/config`)!;
    expect(count.device).toMatchObject({
      identifiers: [Z2M_ID],
      name: 'Zigbee2MQTT',
      via_device: AGENT_ID,
      model: 'Zigbee2MQTT (zStack3x0)',
    });
    const byDevice = (id: string) =>
      [...found.values()].filter((p) => (p.device as Device).identifiers[0] === id).length;
    expect(byDevice(HA_ID)).toBe(5);
    expect(byDevice(Z2M_ID)).toBe(3);
    expect(devices(found).get(AGENT_ID)?.via_device).toBeUndefined();
    const messages = [...found].map(([topic, payload]) => ({ topic, payload }));
    expect(validateDiscovery(messages as Parameters<typeof validateDiscovery>[0])).toEqual([]);

    await restartWithout();
    const after = await pollUntil(
      () => configs(url),
      (m) => !devices(m).has(HA_ID) && !devices(m).has(Z2M_ID),
      'the service devices gone',
      60_000,
    );
    expect([...after.keys()].filter((t) => /home_assistant|zigbee2mqtt/.test(t))).toEqual([]);
    expect(devices(after).has(AGENT_ID)).toBe(true);
    const states = await retained(url, 'outpost/edge/+');
    expect(states.has('outpost/edge/home_assistant')).toBe(false);
    expect(states.has('outpost/edge/zigbee2mqtt')).toBe(false);
  }, 180_000);

  it('per device: one message per service device, cleared with the bridges', async () => {
    const { ha, url, restartWithout } = await site(true);
    const haTopic = `homeassistant/device/${AGENT_ID}/service_home_assistant/config`;
    const z2mTopic = `homeassistant/device/${AGENT_ID}/service_zigbee2mqtt/config`;
    const found = await pollUntil(
      () => configs(url),
      (m) =>
        (m.get(haTopic)?.device as Device | undefined)?.sw_version === ha.haVersion &&
        (m.get(z2mTopic)?.device as Device | undefined)?.sw_version === '2.6.0',
      'the service devices with their versions',
      60_000,
    );
    const haMsg = found.get(haTopic)!;
    expect(haMsg.device).toMatchObject({ identifiers: [HA_ID], via_device: AGENT_ID });
    expect(Object.keys(haMsg.components as object).sort()).toEqual([
      'home_assistant_failed_integrations',
      'home_assistant_link',
      'home_assistant_restarting',
      'home_assistant_unavailable_entities',
      'home_assistant_updates',
    ]);
    expect(found.get(z2mTopic)!.device).toMatchObject({
      identifiers: [Z2M_ID],
      name: 'Zigbee2MQTT',
    });
    const agentMsg = found.get(`homeassistant/device/${AGENT_ID}/agent/config`)!;
    expect(
      Object.keys(agentMsg.components as object).some((k) => k.includes('home_assistant')),
    ).toBe(false);
    const messages = [...found].map(([topic, payload]) => ({ topic, payload }));
    expect(validateDiscovery(messages as Parameters<typeof validateDiscovery>[0])).toEqual([]);

    await restartWithout();
    await pollUntil(
      () => configs(url),
      (m) => !m.has(haTopic) && !m.has(z2mTopic),
      'the service device messages cleared',
      60_000,
    );
  }, 180_000);
});
