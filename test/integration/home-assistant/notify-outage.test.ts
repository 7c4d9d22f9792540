import { createServer, type Server } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { FakeHomeAssistant } from '../../helpers/fake-home-assistant.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { LOOPBACK, getFreePort } from '../../helpers/ports.js';

const TOKEN = 'fake-ha-token-for-the-outage-test';

interface WireEvent {
  type: string;
  data: { message?: string; incident?: { id: string; status: string } };
}

/**
 * Notifications wait on disk while Home Assistant is away (issue 18, point 3): the agent
 * runs with a watchdog TCP check on a port the test opens and closes; HA goes away, an
 * incident opens and closes (twice) meanwhile, HA comes back, and every alert reaches
 * `notify.telegram_ops` exactly once — none lost, none repeated after further reconnects.
 * A route to a notify service HA does not have costs one error line, not one per message.
 */
describe('notifications across an outage of Home Assistant', () => {
  let ha: FakeHomeAssistant;
  let agent: AgentProcess;
  let url: string;
  let checkPort: number;
  let target: Server | undefined;
  let events: Collector;
  let client: MqttClient;

  const openTarget = async () => {
    target = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => target!.listen(checkPort, LOOPBACK, resolve));
  };
  const closeTarget = async () => {
    await new Promise<void>((resolve) => target!.close(() => resolve()));
    target = undefined;
  };
  const state = async <T>(topic: string): Promise<T | undefined> => {
    const v = (await retained(url, topic)).get(topic);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  };
  const healthy = async (want: boolean) =>
    eventually(async () =>
      expect(await state<{ healthy: boolean }>('outpost/edge/watchdog')).toMatchObject({
        healthy: want,
      }),
    );
  const linkUp = async (want: boolean) =>
    eventually(async () =>
      expect(await state<{ connected: boolean }>('outpost/edge/home_assistant')).toMatchObject({
        connected: want,
      }),
    );
  const sent = () => ha.callsTo('notify.telegram_ops').map((c) => String(c.service_data.message));
  /** How often `text` was said across every message sent. */
  const said = (text: string) => sent().join('\n').split(text).length - 1;
  const all = () => events.messages.map((m) => JSON.parse(m.payload) as WireEvent);
  const watchdogEvents = () => all().filter((e) => e.type.startsWith('watchdog_'));
  const ofType = (type: string) => all().filter((e) => e.type === type);

  beforeAll(async () => {
    ha = await FakeHomeAssistant.start({ tokens: [TOKEN] });
    ha.services.add('notify.telegram_ops');
    checkPort = await getFreePort();
    await openTarget();
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts: [{ id: local }]
watchdog:
  interval: 300ms
  checks:
    - { id: service, tcp: "127.0.0.1:${checkPort}", timeout: 1s, fail_after: 1 }
home_assistant:
  url: ${ha.url}
  token_env: HA_TOKEN
  timeout: 2s
  ping_every: 1s
  reconnect_min: 100ms
  reconnect_max: 500ms
  dead_after: 1s
  check_every: 300ms
  group_window: 100ms
  notify:
    - { service: notify.telegram_ops, subjects: [watchdog] }
    - { service: notify.nobody_here, subjects: [watchdog] }
`,
      { HA_TOKEN: TOKEN },
    );
    await agent.running(30_000);
    client = await observer(url);
    events = await new Collector(client).subscribe('outpost/edge/events');
    await linkUp(true);
    await healthy(true);
  }, 120_000);

  afterAll(async () => {
    await client?.endAsync();
    await agent?.cleanup();
    await ha?.stop();
    if (target) await closeTarget();
  });

  it('holds every alert while HA is down and sends each once when it is back', async () => {
    await ha.stop();
    await linkUp(false);
    for (let i = 0; i < 2; i++) {
      await closeTarget();
      await healthy(false);
      await openTarget();
      await healthy(true);
    }
    await eventually(() => expect(watchdogEvents()).toHaveLength(4));
    // Its host refuses the port at once, so it is up: HA itself is dead, and says so.
    await eventually(() => expect(ofType('ha_websocket_dead')).toHaveLength(1));
    expect(ofType('ha_websocket_dead')[0]!.data.message).toMatch(
      /^Home Assistant's websocket API has not answered for .* while its host is up/,
    );
    // Waiting on disk, behind the notifier's cursor.
    await eventually(async () =>
      expect(
        (await state<{ notify_backlog: number }>('outpost/edge/home_assistant'))?.notify_backlog,
      ).toBeGreaterThanOrEqual(4),
    );
    expect(sent()).toEqual([]);

    ha = await ha.restart();
    const texts = watchdogEvents().map((e) => e.data.message!);
    const expected = (t: string) => texts.filter((x) => x === t).length;
    await eventually(() => {
      for (const t of texts) expect(said(t)).toBe(expected(t));
    });
    await eventually(() => expect(ofType('ha_websocket_restored')).toHaveLength(1));
    // Two incidents, each opened and closed.
    expect(new Set(watchdogEvents().map((e) => e.data.incident?.id)).size).toBe(2);

    // Another outage and return: nothing old is sent again. A new alert afterwards is
    // the signal that the notifier had its turn (it sends in order).
    const before = sent().length;
    await ha.stop();
    await linkUp(false);
    ha = await ha.restart();
    await linkUp(true);
    await closeTarget();
    await healthy(false);
    await eventually(() => expect(sent().length).toBe(before + 1));
    expect(sent().at(-1)).toBe(watchdogEvents().at(-1)!.data.message);
    await openTarget();
    await healthy(true);

    // One error for the missing service, however many messages were routed to it.
    const missing = agent.output().split('notify.nobody_here does not exist in Home Assistant');
    expect(missing.length - 1).toBe(1);
    expect(ha.violations).toEqual([]);
    expect(agent.output()).not.toContain(TOKEN);
  }, 180_000);
});
