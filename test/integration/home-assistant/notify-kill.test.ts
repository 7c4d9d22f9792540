import { createServer, type Server } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { FakeHomeAssistant } from '../../helpers/fake-home-assistant.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { LOOPBACK, getFreePort } from '../../helpers/ports.js';

const TOKEN = 'fake-ha-token-for-the-notify-kill-test';
const SERVICES = ['notify.telegram_ops', 'notify.mobile_app_pixel', 'notify.ops_mail'];

interface WireEvent {
  type: string;
  data: { message?: string };
}

/**
 * Notifications across a crash (issue 18, point 3): alerts wait on disk while Home
 * Assistant is away, so one batch holds several messages (three routes, downs and ups);
 * HA comes back slow, and the agent is killed (SIGKILL) while it sends them. Restarted on
 * the same data, it delivers every alert, and repeats at most the one message HA had not
 * answered when the agent died: the notifier moves its cursor and writes its journal after
 * each message, not after each batch.
 */
describe('notifications across a SIGKILL of the agent', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('delivers every alert after a restart, repeating at most the one in flight', async () => {
    let ha = await FakeHomeAssistant.start({ tokens: [TOKEN] });
    cleanups.push(() => ha.stop());
    for (const s of SERVICES) ha.services.add(s);
    const checkPort = await getFreePort();
    let target: Server | undefined;
    const openTarget = async () => {
      target = createServer((s) => s.destroy());
      await new Promise<void>((resolve) => target!.listen(checkPort, LOOPBACK, resolve));
    };
    const closeTarget = async () => {
      await new Promise<void>((resolve) => target!.close(() => resolve()));
      target = undefined;
    };
    cleanups.push(async () => (target ? closeTarget() : undefined));
    await openTarget();
    const port = await getFreePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const yaml = (dir: string) => `node: { id: edge }
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
  timeout: 5s
  ping_every: 1s
  reconnect_min: 100ms
  reconnect_max: 300ms
  group_window: 50ms
  stale_after: 1h
  notify:
${SERVICES.map((s) => `    - { service: ${s}, subjects: [watchdog] }`).join('\n')}
`;
    const first: AgentProcess = await spawnAgent(yaml, { HA_TOKEN: TOKEN });
    let agent = first;
    cleanups.push(() => agent.cleanup());
    await first.running(30_000);
    const state = async <T>(topic: string): Promise<T | undefined> => {
      const v = (await retained(url, topic)).get(topic);
      return v === undefined ? undefined : (JSON.parse(v) as T);
    };
    const healthy = (want: boolean) =>
      eventually(async () =>
        expect(await state<{ healthy: boolean }>('outpost/edge/watchdog')).toMatchObject({
          healthy: want,
        }),
      );
    const linkUp = (want: boolean) =>
      eventually(async () =>
        expect(await state<{ connected: boolean }>('outpost/edge/home_assistant')).toMatchObject({
          connected: want,
        }),
      );
    const client: MqttClient = await observer(url);
    const events = await new Collector(client).subscribe('outpost/edge/events');
    await linkUp(true);
    await healthy(true);

    // HA away: two outages of the checked port wait on disk, one batch of six messages.
    await ha.stop();
    await linkUp(false);
    for (let i = 0; i < 2; i++) {
      await closeTarget();
      await healthy(false);
      await openTarget();
      await healthy(true);
    }
    const alerts = () =>
      events.messages
        .map((m) => JSON.parse(m.payload) as WireEvent)
        .filter((e) => e.type.startsWith('watchdog_'))
        .map((e) => e.data.message!);
    await eventually(() => expect(alerts()).toHaveLength(4));
    await eventually(async () =>
      expect(
        (await state<{ notify_backlog: number }>('outpost/edge/home_assistant'))?.notify_backlog,
      ).toBeGreaterThanOrEqual(4),
    );
    const texts = alerts();
    await client.endAsync();

    // HA back, slow to answer: killed once HA has received three calls.
    ha = await ha.restart();
    ha.resultDelayMs = 1500;
    const calls = () => ha.serviceCalls.filter((c) => c.domain === 'notify');
    await eventually(() => expect(calls().length).toBeGreaterThanOrEqual(3), {
      timeout: 60_000,
    });
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    const atKill = calls().length;
    expect(atKill).toBeLessThan(SERVICES.length * 2);
    ha.resultDelayMs = 0;

    agent = await spawnAgent(yaml, { HA_TOKEN: TOKEN }, { dir: first.dir });
    await agent.running(30_000);
    const said = (service: string, text: string) =>
      calls()
        .filter((c) => `${c.domain}.${c.service}` === service)
        .map((c) => String(c.service_data.message))
        .join('\n')
        .split(text).length - 1;
    const expected = (t: string) => texts.filter((x) => x === t).length;
    await eventually(
      () => {
        for (const s of SERVICES)
          for (const t of texts) expect(said(s, t)).toBeGreaterThanOrEqual(expected(t));
      },
      { timeout: 60_000 },
    );
    // Every call is a distinct message but for at most one sent again.
    const keys = calls().map((c) =>
      JSON.stringify([c.service, c.service_data.title, c.service_data.message]),
    );
    expect(keys.length - new Set(keys).size).toBeLessThanOrEqual(1);
    expect(ha.violations).toEqual([]);
  }, 240_000);
});
