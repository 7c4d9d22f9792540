import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { readAudit } from '../../helpers/audit-file.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { FakeHomeAssistant } from '../../helpers/fake-home-assistant.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { unixHttpJson } from '../../helpers/unix-http.js';
import { EngineActions } from '../containers/helpers.js';

const TOKEN = 'fake-ha-token-for-the-planned-restart-test';
/** What the health watch logs when a silence past `dead_after` falls in the restart window. */
const SUPPRESSED = 'restarting on purpose: no alert';

interface WireEvent {
  type: string;
  subject: string;
  data: { action_id?: string; incident?: { id: string; status: string } };
}

/**
 * A planned restart of Home Assistant is no outage (issue 18, point 2), against the agent
 * process, a real dockerd whose container `homeassistant` stands in for HA's, and a fake
 * HA. HA goes away while outpost's own restart command (by `ops`, allowed by the policy,
 * audited) restarts its container: the silence outlasts `dead_after`, yet no
 * `ha_websocket_dead` is raised; the control, the same silence with no restart, raises it.
 * The restart is slow on purpose (`stop_timeout`, as HA's own shutdown is): the window
 * must open when the action starts, not only once the monitor sees the new start time.
 */
describe('a planned restart of the Home Assistant container', () => {
  let engine: ContainerEngine;
  let ha: FakeHomeAssistant;
  let agent: AgentProcess;
  let url: string;
  let ops: MqttClient;
  let events: Collector;

  const startedAt = async () =>
    (
      await unixHttpJson<{ State: { StartedAt: string } }>(
        engine.socketPath,
        '/containers/homeassistant/json',
      )
    ).State.StartedAt;
  const seen = (type: string) =>
    events.messages.map((m) => JSON.parse(m.payload) as WireEvent).filter((e) => e.type === type);
  const connected = async () => {
    const topic = 'outpost/edge/home_assistant';
    const v = (await retained(url, topic)).get(topic);
    return v !== undefined && (JSON.parse(v) as { connected: boolean }).connected;
  };

  beforeAll(async () => {
    [engine, ha] = await Promise.all([
      startDockerd(),
      FakeHomeAssistant.start({ tokens: [TOKEN] }),
    ]);
    await new EngineActions(engine.socketPath, engine.imageRef).run('homeassistant');
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${port}"
  users:
    - { username: ops, password: ops-secret }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
policy:
  - { action: restart_container, target: local/homeassistant, decision: allow }
home_assistant:
  url: ${ha.url}
  token_env: OUTPOST_TEST_HA_TOKEN
  timeout: 1s
  ping_every: 300ms
  reconnect_min: 100ms
  reconnect_max: 300ms
  check_every: 200ms
  dead_after: 1s
  container: local/homeassistant
  restart_grace: 10s
`,
      { OUTPOST_TEST_HA_TOKEN: TOKEN },
    );
    await agent.running(30_000);
    ops = await observer(url, { username: 'ops', password: 'ops-secret' });
    events = await new Collector(ops).subscribe('outpost/edge/events');
    await eventually(async () => expect(await connected()).toBe(true));
  }, 180_000);

  afterAll(async () => {
    await ops?.endAsync();
    await agent?.cleanup();
    await Promise.all([ha?.stop(), engine?.stop()]);
  });

  it('raises nothing while outpost restarts the container, and Home Assistant is away meanwhile', async () => {
    const before = await startedAt();
    await ops.publishAsync(
      'outpost/edge/cmd/restart_container',
      JSON.stringify({
        id: 'ha-restart-1',
        target: 'local/homeassistant',
        args: { stop_timeout: 5 },
      }),
      { qos: 1 },
    );
    // The restart has begun: HA goes away, as it does when its container is stopped.
    await eventually(() =>
      expect(seen('remediation_started').map((e) => e.data.action_id)).toContain('ha-restart-1'),
    );
    await ha.stop();
    // Positive evidence either way: the watch judged a silence past dead_after.
    await eventually(
      () =>
        expect(agent.output().includes(SUPPRESSED) || seen('ha_websocket_dead').length > 0).toBe(
          true,
        ),
      { timeout: 60_000 },
    );
    expect(seen('ha_websocket_dead')).toEqual([]);

    // HA is back with its container; a failed integration is the sentinel: checks resume
    // only once the window is over, and its event comes after anything raised before it.
    await eventually(async () => expect(await startedAt()).not.toBe(before), { timeout: 60_000 });
    ha.configEntries = [
      { entry_id: 's1', domain: 'mqtt', title: 'MQTT', state: 'setup_error', reason: 'sentinel' },
    ];
    ha = await ha.restart();
    await eventually(() => expect(seen('ha_integration_failed')).toHaveLength(1), {
      timeout: 90_000,
    });
    expect(seen('ha_websocket_dead')).toEqual([]);
    expect(seen('ha_websocket_restored')).toEqual([]);
    expect(agent.output()).toContain(SUPPRESSED);

    const action = 'outpost/edge/actions/ha-restart-1';
    expect(JSON.parse((await retained(url, action)).get(action) ?? '{}')).toMatchObject({
      status: 'completed',
    });
    // The decision is on record, with the sender from the channel.
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(
      audit.filter((e) => e.action_id === 'ha-restart-1').map((e) => [e.kind, e.who, e.outcome]),
    ).toEqual(
      expect.arrayContaining([
        ['result', 'agent', 'completed'],
        [expect.any(String), 'ops', expect.any(String)],
      ]),
    );
    ha.configEntries = [];
    await eventually(() => expect(seen('ha_integrations_recovered')).toHaveLength(1));
  }, 240_000);

  it('raises the silence when nothing restarts Home Assistant (the control)', async () => {
    expect(seen('ha_websocket_dead')).toEqual([]);
    await ha.stop();
    const dead = await eventually(() => {
      const [e] = seen('ha_websocket_dead');
      expect(e).toBeDefined();
      return e!;
    });
    expect(dead).toMatchObject({
      subject: 'home_assistant/websocket',
      data: { incident: { status: 'open' } },
    });
    ha = await ha.restart();
    await eventually(() => expect(seen('ha_websocket_restored')).toHaveLength(1));
    expect(agent.child.exitCode).toBeNull();
    expect(ha.violations).toEqual([]);
  }, 120_000);
});
