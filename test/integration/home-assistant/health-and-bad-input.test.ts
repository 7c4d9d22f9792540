import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { FakeHomeAssistant } from '../../helpers/fake-home-assistant.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';

const TOKEN = 'fake-ha-token-for-the-health-test';

interface WireEvent {
  type: string;
  subject: string;
  severity: string;
  data: {
    title?: string;
    message?: string;
    names?: string[];
    count?: number;
    incident?: { id: string; status: string };
  };
}

interface BridgeState {
  connected: boolean;
  status: string;
  restarting: boolean;
  failed_integrations: number;
  failed_integration_list: string[];
  unavailable_entities: number;
  unavailable_entity_list: string[];
  updates: number;
}

const longAgo = new Date(Date.now() - 3_600_000).toISOString();

/**
 * Home Assistant's own health and what a misbehaving HA sends (issue 18, points 2 and 5),
 * against the agent process and a fake HA: integrations that failed to load, entities
 * unavailable too long (selected by integration, counted, listed within the bound),
 * updates, each an incident with events and entity state; nothing while HA restarts on
 * purpose; malformed messages, a slow HA and a revoked token never stop the agent.
 */
describe('the Home Assistant health watch and bad input from HA', () => {
  let ha: FakeHomeAssistant;
  let agent: AgentProcess;
  let url: string;
  let client: MqttClient;
  let events: Collector;

  const state = async () => {
    const topic = 'outpost/edge/home_assistant';
    const v = (await retained(url, topic)).get(topic);
    return v === undefined ? undefined : (JSON.parse(v) as BridgeState);
  };
  const seen = (type: string) =>
    events.messages.map((m) => JSON.parse(m.payload) as WireEvent).filter((e) => e.type === type);

  beforeAll(async () => {
    // HA comes up only once the events are watched: its first alerts come at once.
    const haPort = await getFreePort();
    const haUrl = `ws://127.0.0.1:${haPort}/api/websocket`;
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts: [{ id: local }]
home_assistant:
  url: ${haUrl}
  token_env: HA_TOKEN
  timeout: 1s
  ping_every: 500ms
  reconnect_min: 100ms
  reconnect_max: 300ms
  check_every: 300ms
  restart_grace: 1h
  offline: { after: 10m, integrations: [zha], max_listed: 2 }
`,
      { HA_TOKEN: TOKEN },
    );
    await agent.running(30_000);
    client = await observer(url);
    events = await new Collector(client).subscribe('outpost/edge/events');
    ha = await FakeHomeAssistant.start({ tokens: [TOKEN], port: haPort });
    ha.configEntries = [
      { entry_id: 'a1', domain: 'hue', title: 'Hue bridge', state: 'loaded' },
      { entry_id: 'a2', domain: 'zha', title: 'Zigbee', state: 'setup_retry', reason: 'no radio' },
    ];
    ha.entityRegistry = [
      { entity_id: 'light.kitchen', platform: 'zha' },
      { entity_id: 'sensor.door', platform: 'zha' },
      { entity_id: 'sensor.cloud', platform: 'met' },
      { entity_id: 'switch.garden', platform: 'zha' },
    ];
    ha.states = [
      { entity_id: 'light.kitchen', state: 'unavailable', last_changed: longAgo },
      { entity_id: 'sensor.door', state: 'unavailable', last_changed: longAgo },
      { entity_id: 'switch.garden', state: 'unavailable', last_changed: longAgo },
      // Not zha: not selected.
      { entity_id: 'sensor.cloud', state: 'unavailable', last_changed: longAgo },
      {
        entity_id: 'update.home_assistant_core',
        state: 'on',
        attributes: {
          friendly_name: 'Home Assistant Core',
          installed_version: '2026.11.1',
          latest_version: '2026.12.0',
        },
      },
    ];
  }, 120_000);

  afterAll(async () => {
    await client?.endAsync();
    await agent?.cleanup();
    await ha?.stop();
  });

  it('raises failed integrations, unavailable entities and updates, each an incident and an entity', async () => {
    await eventually(() => {
      expect(seen('ha_integration_failed')).toHaveLength(1);
      expect(seen('ha_entities_unavailable')).toHaveLength(1);
      expect(seen('ha_update_available')).toHaveLength(1);
    });
    expect(seen('ha_integration_failed')[0]).toMatchObject({
      subject: 'home_assistant/integrations',
      severity: 'warning',
      data: {
        title: '1 Home Assistant integration failed to load',
        message: '1 integration failed to load: Zigbee (zha, setup_retry: no radio)',
        incident: { status: 'open' },
      },
    });
    // Three zha entities unavailable for an hour, two listed (max_listed), all counted.
    expect(seen('ha_entities_unavailable')[0]!.data).toMatchObject({
      count: 3,
      names: ['light.kitchen', 'sensor.door'],
      message: expect.stringMatching(
        /^3 entities unavailable .*: light\.kitchen, sensor\.door and 1 more$/,
      ) as string,
    });
    expect(seen('ha_update_available')[0]!.data.message).toBe(
      '1 update available: Home Assistant Core (2026.11.1 → 2026.12.0)',
    );
    await eventually(async () =>
      expect(await state()).toMatchObject({
        connected: true,
        failed_integrations: 1,
        unavailable_entities: 3,
        unavailable_entity_list: ['light.kitchen', 'sensor.door'],
        updates: 1,
      }),
    );

    // The integration loads again: its incident closes.
    ha.configEntries = ha.configEntries.map((e) => ({ ...e, state: 'loaded', reason: null }));
    await eventually(() => expect(seen('ha_integrations_recovered')).toHaveLength(1));
    expect(seen('ha_integrations_recovered')[0]!.data.incident).toMatchObject({
      id: seen('ha_integration_failed')[0]!.data.incident!.id,
      status: 'closed',
    });
  });

  it('says nothing while Home Assistant restarts on purpose', async () => {
    ha.fire('homeassistant_stop', {});
    await eventually(async () => expect((await state())?.restarting).toBe(true));
    ha.configEntries = [{ entry_id: 'a3', domain: 'mqtt', title: 'MQTT', state: 'setup_error' }];
    // A full round of checks runs meanwhile (the fake sees its commands) and raises nothing.
    const asked = ha.received.filter((m) => m.type === 'config_entries/get').length;
    const pings = () => ha.received.filter((m) => m.type === 'ping').length;
    const p0 = pings();
    await eventually(() => expect(pings()).toBeGreaterThan(p0 + 2));
    expect(ha.received.filter((m) => m.type === 'config_entries/get').length).toBe(asked);
    expect(seen('ha_integration_failed')).toHaveLength(1);
  });

  it('ignores malformed messages and survives a slow HA', async () => {
    ha.sendRaw('not json at all');
    ha.sendRaw('{"no_type": true}');
    ha.sendRaw('[1, 2, 3]');
    ha.sendRaw(JSON.stringify({ id: 9999, type: 'result', success: true, result: null }));
    ha.sendRaw(JSON.stringify({ id: 3, type: 'event', event: { nonsense: true } }));
    ha.fire('telegram_callback', {
      id: 'x',
      user_id: 'not a number',
      data: '/outpost_approve nope',
    });
    // Still connected, still answering pings on the same connection.
    const p0 = ha.received.filter((m) => m.type === 'ping').length;
    await eventually(() =>
      expect(ha.received.filter((m) => m.type === 'ping').length).toBeGreaterThan(p0 + 1),
    );
    expect(agent.output()).toContain('ignored a malformed message from Home Assistant');
    expect(agent.child.exitCode).toBeNull();

    // Slow: every answer later than the timeout. The link gives up and reconnects.
    ha.resultDelayMs = 3000;
    await eventually(async () => expect((await state())?.connected).toBe(false));
    ha.resultDelayMs = 0;
    await eventually(async () => expect((await state())?.connected).toBe(true));
    expect(agent.child.exitCode).toBeNull();
  });

  it('stops for good when the token is revoked, and raises it', async () => {
    const attempts = ha.authAttempts;
    ha.revoke();
    await eventually(async () => expect((await state())?.status).toBe('auth_failed'));
    await eventually(() => expect(seen('ha_auth_invalid')).toHaveLength(1));
    expect(seen('ha_auth_invalid')[0]).toMatchObject({
      subject: 'home_assistant/auth',
      severity: 'error',
      data: { title: 'Home Assistant refused the token' },
    });
    const after = ha.authAttempts;
    expect(after).toBe(attempts + 1);
    // The rest of the agent goes on: its broker still answers. No retry meanwhile.
    const probe = await observer(url);
    await probe.endAsync();
    expect(ha.authAttempts).toBe(after);
    expect(agent.child.exitCode).toBeNull();
    expect(ha.violations).toEqual([]);
    expect(agent.output()).not.toContain(TOKEN);
  });
});
