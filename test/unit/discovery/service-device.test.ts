import { describe, expect, it } from 'vitest';
import { groupByDevice } from '../../../discovery/device-based.js';
import { serviceDevice } from '../../../discovery/device.js';
import type { DiscoveryConfig } from '../../../discovery/entity.js';
import type { EntityFamily } from '../../../discovery/family.js';
import { desiredConfigs, modelDevices, type DiscoveryModel } from '../../../discovery/model.js';
import { DiscoveryPublisher } from '../../../discovery/publisher.js';
import { MemoryDiscoveryRegistry } from '../../../discovery/registry.js';
import {
  haWebUrl,
  homeAssistantEntities,
  homeAssistantFamily,
} from '../../../bridges/home-assistant/entities.js';
import { z2mFamily } from '../../../bridges/zigbee2mqtt/entities.js';
import { ManualClock } from '../../../src/core/clock.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { agent, ctx, RecordingMqtt } from './fixtures.js';

const HA_URL = 'ws://ha.example:8123/api/websocket';
const ha = homeAssistantFamily(ctx.root, { url: HA_URL, version: '2026.11.2' });
const z2m = z2mFamily(ctx.root, { stale: true }, { version: '2.6.0', coordinator: 'zStack3x0' });
const model: DiscoveryModel = {
  agent,
  hosts: [{ id: 'nas', remote: false }],
  families: [ha, z2m],
};
const configs = desiredConfigs(ctx, model);
const AGENT_ID = 'outpost_chelsty-infra';
const HA_ID = `${AGENT_ID}_service_home_assistant`;
const Z2M_ID = `${AGENT_ID}_service_zigbee2mqtt`;

function on(deviceId: string): DiscoveryConfig[] {
  return configs.filter((c) => c.deviceId === deviceId);
}

describe('a service device', () => {
  it('is reached through the agent and available with the agent and the service', () => {
    const device = serviceDevice(ctx.root, agent, {
      id: 'home_assistant',
      name: 'Home Assistant',
      model: 'Home Assistant',
      swVersion: '2026.11.2',
      reachability: { topic: 'outpost/chelsty-infra/home_assistant', value_template: '{{ 1 }}' },
    });
    expect(device.payload).toEqual({
      identifiers: [`${AGENT_ID}_service_home_assistant`],
      name: 'Home Assistant',
      model: 'Home Assistant',
      sw_version: '2026.11.2',
      via_device: AGENT_ID,
    });
    expect(device.objectId).toBe('service_home_assistant');
    expect(device.scope).toBe(AGENT_ID);
    expect(device.availability.map((a) => a.topic)).toEqual([
      'outpost/chelsty-infra/availability',
      'outpost/chelsty-infra/home_assistant',
    ]);
  });

  it('comes after the agent and the hosts, one per declared service', () => {
    const ids = [...modelDevices(ctx, model)].map((d) => d.id);
    expect(ids).toEqual([AGENT_ID, `${AGENT_ID}_nas`, HA_ID, Z2M_ID]);
  });

  it('holds the Home Assistant entities, with the ids they had on the agent', () => {
    const haConfigs = on(HA_ID);
    expect(haConfigs.map((c) => c.uniqueId)).toEqual([
      `${AGENT_ID}_home_assistant_link`,
      `${AGENT_ID}_home_assistant_failed_integrations`,
      `${AGENT_ID}_home_assistant_unavailable_entities`,
      `${AGENT_ID}_home_assistant_updates`,
      `${AGENT_ID}_home_assistant_restarting`,
    ]);
    expect(haConfigs[0]!.topic).toBe(
      `homeassistant/binary_sensor/${AGENT_ID}/home_assistant_link/config`,
    );
    expect(haConfigs[0]!.deviceTopic).toBe(
      `homeassistant/device/${AGENT_ID}/service_home_assistant/config`,
    );
    const device = haConfigs[0]!.payload.device as Record<string, unknown>;
    expect(device).toMatchObject({
      identifiers: [HA_ID],
      name: 'Home Assistant',
      sw_version: '2026.11.2',
      via_device: AGENT_ID,
      configuration_url: 'http://ha.example:8123',
    });
    expect(on(AGENT_ID).some((c) => c.uniqueId.includes('home_assistant'))).toBe(false);
  });

  it('keeps the link available while Home Assistant is not, and not the counts', () => {
    const [link, failed] = on(HA_ID);
    expect((link!.payload.availability as unknown[]).length).toBe(1);
    expect(failed!.payload.availability).toEqual([
      expect.objectContaining({ topic: 'outpost/chelsty-infra/availability' }),
      expect.objectContaining({
        topic: 'outpost/chelsty-infra/home_assistant',
        payload_available: 'online',
      }),
    ]);
  });

  it('holds the Zigbee2MQTT entities, the coordinator as its model', () => {
    const z = on(Z2M_ID);
    expect(z.map((c) => c.uniqueId)).toEqual([
      `${AGENT_ID}_zigbee2mqtt_bridge`,
      `${AGENT_ID}_zigbee2mqtt_devices`,
      `${AGENT_ID}_zigbee2mqtt_stale_devices`,
    ]);
    expect(z[0]!.payload.device).toMatchObject({
      identifiers: [Z2M_ID],
      name: 'Zigbee2MQTT',
      model: 'Zigbee2MQTT (zStack3x0)',
      sw_version: '2.6.0',
      via_device: AGENT_ID,
    });
  });

  it('breaks no Home Assistant rule, per entity or per device', () => {
    expect(validateDiscovery(configs)).toEqual([]);
    const messages = groupByDevice(configs);
    expect(messages.map((m) => m.topic)).toContain(
      `homeassistant/device/${AGENT_ID}/service_zigbee2mqtt/config`,
    );
    expect(validateDiscovery(messages)).toEqual([]);
  });

  it('changes its fingerprint with the version alone, not the agent’s', () => {
    const newer = homeAssistantFamily(ctx.root, { url: HA_URL, version: '2026.12.0' });
    const prints = (families: EntityFamily[]) =>
      [...modelDevices(ctx, { ...model, families })].map((d) => d.fingerprint);
    const [agentA, hostA, haA] = prints([ha, z2m]);
    const [agentB, hostB, haB] = prints([newer, z2m]);
    expect([agentB, hostB]).toEqual([agentA, hostA]);
    expect(haB).not.toBe(haA);
  });

  it('reads the web UI from the websocket URL', () => {
    expect(haWebUrl('wss://ha.example/api/websocket')).toBe('https://ha.example');
    expect(haWebUrl('ws://[::1]:8123/api/websocket')).toBe('http://[::1]:8123');
  });
});

/** The bridge as an older release had it: its entities on the agent's device. */
const onAgent: EntityFamily = {
  name: 'home_assistant',
  key: 'on-agent',
  agent: (c, device) => homeAssistantEntities(c, device, device),
};

describe('moving entities from the agent to a service device', () => {
  const stateTopic = 'outpost/chelsty-infra/home_assistant';

  function run(deviceBased: boolean) {
    const mqtt = new RecordingMqtt();
    const registry = new MemoryDiscoveryRegistry();
    let families: EntityFamily[] = [onAgent];
    const publisher = new DiscoveryPublisher({
      mqtt,
      registry,
      desired: () => ({ devices: modelDevices(ctx, { ...model, families }) }),
      clock: new ManualClock(0),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      prefix: 'homeassistant',
      node: agent.node,
      sleep: () => Promise.resolve(),
      deviceBased,
    });
    return { mqtt, registry, publisher, move: (f: EntityFamily[]) => (families = f) };
  }

  /** The retained message each topic ends with, as a broker would keep it. */
  function retained(mqtt: RecordingMqtt): Map<string, string> {
    const out = new Map<string, string>();
    for (const s of mqtt.sent) {
      if (s.payload === '') out.delete(s.topic);
      else out.set(s.topic, s.payload);
    }
    return out;
  }

  it('per entity: the configs end on the new device, the state topic is kept', async () => {
    const { mqtt, registry, publisher, move } = run(false);
    await publisher.sync();
    const linkTopic = `homeassistant/binary_sensor/${AGENT_ID}/home_assistant_link/config`;
    expect(registry.get(linkTopic)?.deviceId).toBe(AGENT_ID);
    mqtt.sent.length = 0;
    move([ha]);
    await publisher.sync();
    expect(mqtt.sent.map((s) => s.topic)).not.toContain(stateTopic);
    const after = retained(mqtt);
    const link = JSON.parse(after.get(linkTopic)!) as { device: { identifiers: string[] } };
    expect(link.device.identifiers).toEqual([HA_ID]);
    expect(registry.get(linkTopic)?.deviceId).toBe(HA_ID);
    expect(registry.device(AGENT_ID).some(([t]) => t.includes('home_assistant'))).toBe(false);
    // And a third round has nothing left to do.
    mqtt.sent.length = 0;
    await publisher.sync();
    expect(mqtt.sent).toEqual([]);
  });

  it('per device: dropped from the agent’s message before the new device has them', async () => {
    const { mqtt, registry, publisher, move } = run(true);
    await publisher.sync();
    mqtt.sent.length = 0;
    move([ha]);
    await publisher.sync();
    const agentTopic = `homeassistant/device/${AGENT_ID}/agent/config`;
    const haTopic = `homeassistant/device/${AGENT_ID}/service_home_assistant/config`;
    const order = mqtt.sent.map((s) => s.topic);
    expect(order.indexOf(agentTopic)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(agentTopic)).toBeLessThan(order.indexOf(haTopic));
    const agentMsg = JSON.parse(mqtt.sent.find((s) => s.topic === agentTopic)!.payload) as {
      components: Record<string, unknown>;
    };
    expect(agentMsg.components.home_assistant_link).toEqual({ platform: 'binary_sensor' });
    const haMsg = JSON.parse(retained(mqtt).get(haTopic)!) as {
      device: { identifiers: string[]; via_device: string };
      components: Record<string, { platform: string }>;
    };
    expect(haMsg.device).toMatchObject({ identifiers: [HA_ID], via_device: AGENT_ID });
    expect(Object.keys(haMsg.components)).toHaveLength(5);
    expect(order).not.toContain(stateTopic);
    expect(registry.device(HA_ID)).toHaveLength(5);
  });

  it('removes the device, configs and state when the bridge is turned off', async () => {
    const { mqtt, registry, publisher, move } = run(false);
    move([ha]);
    await publisher.sync();
    mqtt.sent.length = 0;
    move([]);
    await publisher.sync();
    const cleared = mqtt.sent.filter((s) => s.payload === '').map((s) => s.topic);
    expect(cleared).toHaveLength(6);
    expect(cleared).toContain(stateTopic);
    expect(registry.device(HA_ID)).toEqual([]);
  });
});
