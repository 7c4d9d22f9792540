import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { Collector, observer, retained, pollUntil } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { EngineActions } from '../containers/helpers.js';
import { readAudit } from '../../helpers/audit-file.js';

/**
 * The human in the loop from Home Assistant, end to end through the agent process, its
 * embedded broker and a real dockerd: a restart that needs approval shows approve / reject
 * buttons; pressing approve (publishing the button's payload_press to its command_topic, as
 * HA does) runs the restart, and the buttons go away. Who pressed is the connection's
 * login: anonymous and the requester itself are refused, whatever the payload claims.
 */
describe('approving a restart from a Home Assistant button', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let url: string;

  beforeAll(async () => {
    engine = await startDockerd();
    await new EngineActions(engine.socketPath, engine.imageRef).run('db');
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${port}"
  users:
    - { username: ha, password: ha-secret }
    - { username: ops, password: ops-secret }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
policy:
  - { action: restart_container, target: "local/*", decision: approve }
remediation: { approvers: [ha, ops] }
`,
    );
    await agent.running(20_000);
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await engine?.stop();
  });

  it('shows the restart button (policy allows it), then approve buttons for the pending action', async () => {
    const restartButton = 'homeassistant/button/outpost_edge/local_container_db_restart/config';
    const configs = await pollUntil(
      () => retained(url, 'homeassistant/button/#'),
      (m) => m.has(restartButton),
      'the container restart button',
    );
    const restart = JSON.parse(configs.get(restartButton)!) as {
      command_topic: string;
      payload_press: string;
    };
    const ops = await observer(url, { username: 'ops', password: 'ops-secret' });
    await ops.publishAsync(restart.command_topic, restart.payload_press, { qos: 1 });

    const pending = await pollUntil(
      () => retained(url, 'homeassistant/button/#'),
      (m) => [...m.keys()].some((t) => t.endsWith('_approve/config')),
      'the approve button',
    );
    const approveTopic = [...pending.keys()].find((t) => t.endsWith('_approve/config'))!;
    const approve = JSON.parse(pending.get(approveTopic)!) as {
      name: string;
      command_topic: string;
      payload_press: string;
    };
    expect(approve.name).toBe('Approve restart container local/db');
    expect(approve.command_topic).toBe('outpost/edge/cmd/approve');
    const actionId = (JSON.parse(approve.payload_press) as { target: string }).target;
    const status = async () =>
      JSON.parse(
        (await retained(url, `outpost/edge/actions/${actionId}`)).get(
          `outpost/edge/actions/${actionId}`,
        ) ?? '{}',
      ) as { status?: string; requested_by?: string };
    expect(await status()).toMatchObject({ status: 'pending', requested_by: 'ops' });

    // Refused: anonymous (claiming to be ha), and the requester approving its own request.
    const anon = await observer(url);
    const answers = await new Collector(anon).subscribe('outpost/edge/cmd/approve/result');
    const claim = JSON.stringify({ target: actionId, requested_by: 'ha' });
    await press(anon, approve.command_topic, claim);
    await press(ops, approve.command_topic, approve.payload_press);
    await answers.waitFor(() => answers.messages.length >= 2, 'two refusals', 30_000);
    expect(answers.messages.map((m) => JSON.parse(m.payload) as unknown)).toEqual([
      expect.objectContaining({
        ok: false,
        error: expect.objectContaining({
          code: 'not_allowed',
          message: expect.stringMatching(/anonymous/),
        }),
      }),
      expect.objectContaining({
        ok: false,
        error: expect.objectContaining({
          code: 'not_allowed',
          message: expect.stringMatching(/ops requested this action/),
        }),
      }),
    ]);
    expect(await status()).toMatchObject({ status: 'pending' });

    const ha = await observer(url, { username: 'ha', password: 'ha-secret' });
    await ha.publishAsync(approve.command_topic, approve.payload_press, { qos: 1 });
    const done = await pollUntil(
      () => retained(url, `outpost/edge/actions/${actionId}`),
      (m) =>
        ['completed', 'failed'].includes(
          (JSON.parse(m.get(`outpost/edge/actions/${actionId}`) ?? '{}') as { status?: string })
            .status ?? '',
        ),
      'the action to finish',
    );
    expect(JSON.parse(done.get(`outpost/edge/actions/${actionId}`)!)).toMatchObject({
      status: 'completed',
    });
    await pollUntil(
      () => retained(url, 'homeassistant/button/#'),
      (m) => ![...m.keys()].some((t) => t.includes(actionId)),
      'the approve and reject buttons to go',
    );
    await Promise.all([ha.endAsync(), ops.endAsync(), anon.endAsync()]);

    // Every decision on record, each with the identity of its connection.
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(audit.filter((e) => e.kind === 'approval').map((e) => [e.who, e.outcome])).toEqual([
      ['anonymous', 'refused'],
      ['ops', 'refused'],
      ['ha', 'approved'],
    ]);
    expect(
      audit.find((e) => e.who === 'anonymous' && e.kind === 'approval')?.detail?.claimed_by,
    ).toBe('ha');
  });

  it('lets anonymous clients read states and discovery, never command', async () => {
    const anon = await observer(url);
    const configs = await retained(url, 'homeassistant/button/#');
    const restart = JSON.parse(
      configs.get('homeassistant/button/outpost_edge/local_container_db_restart/config')!,
    ) as { command_topic: string; payload_press: string };
    const answers = await new Collector(anon).subscribe('outpost/edge/cmd/+/result');
    await press(anon, restart.command_topic, restart.payload_press);
    await press(
      anon,
      'outpost/edge/cmd/maintenance',
      JSON.stringify({ target: 'local', enabled: true }),
    );
    await answers.waitFor(() => answers.messages.length >= 2, 'two answers', 30_000);
    for (const m of answers.messages) {
      expect(JSON.parse(m.payload)).toMatchObject({
        ok: false,
        error: {
          code: 'not_allowed',
          message: expect.stringMatching(/anonymous clients may not command.*broker\.users/),
        },
      });
    }
    await anon.endAsync();
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(
      audit
        .filter((e) => e.who === 'anonymous' && e.kind === 'decision')
        .map((e) => [e.action, e.outcome]),
    ).toEqual([
      ['restart_container', 'deny'],
      ['maintenance', 'deny'],
    ]);
  });

  it("refuses a client that takes the agent's client id, and the agent stays connected", async () => {
    const seen = await new Collector(await observer(url)).subscribe('outpost/edge/availability');
    await seen.waitFor(() => seen.last('outpost/edge/availability') === 'online', 'online');
    for (const login of [{}, { username: 'ha', password: 'ha-secret' }]) {
      const err = await observer(url, { clientId: 'outpost-edge', ...login }).then(
        async (c) => {
          await c.endAsync();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(String(err)).toMatch(/Identifier rejected/i);
    }
    // The agent still answers on its own session, and never went offline.
    const anon = await observer(url);
    const answers = await new Collector(anon).subscribe('outpost/edge/cmd/ack/result');
    await anon.publishAsync('outpost/edge/cmd/ack', JSON.stringify({ target: 'local/db' }), {
      qos: 1,
    });
    await answers.waitFor(() => answers.messages.length > 0, 'an answer', 30_000);
    expect(seen.messages.map((m) => m.payload)).not.toContain('offline');
    await anon.endAsync();
    expect(agent.output()).toContain("connection refused: the agent's own client id");
  });
});

/** Publishes a button press and waits for the broker's PUBACK. */
function press(client: MqttClient, topic: string, payload: string): Promise<unknown> {
  return client.publishAsync(topic, payload, { qos: 1 });
}
