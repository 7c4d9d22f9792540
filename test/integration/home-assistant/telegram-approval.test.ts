import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { readAudit } from '../../helpers/audit-file.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { FakeHomeAssistant, type FakeServiceCall } from '../../helpers/fake-home-assistant.js';
import { observer, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { unixHttpJson } from '../../helpers/unix-http.js';
import { EngineActions } from '../containers/helpers.js';

const TOKEN = 'fake-ha-long-lived-token-0123456789';

/**
 * Approvals with a person's identity, end to end (issue 18, point 4): the agent process
 * with its embedded broker, a real dockerd, and a fake Home Assistant. A restart held for
 * approval goes out through `notify.telegram_ops` with an inline keyboard; a Telegram user
 * not in `remediation.approvers` is refused (answered, audited, nothing restarted); one in
 * it approves, the container restarts, and the audit names the Telegram user. A second
 * press is answered "already approved"; buttons that are not ours are left alone.
 */
describe('approving a restart from Telegram through Home Assistant', () => {
  let engine: ContainerEngine;
  let ha: FakeHomeAssistant;
  let agent: AgentProcess;
  let ops: MqttClient;
  let url: string;

  const startedAt = async () =>
    (await unixHttpJson<{ State: { StartedAt: string } }>(engine.socketPath, '/containers/db/json'))
      .State.StartedAt;
  const keyboards = () =>
    ha
      .callsTo('notify.telegram_ops')
      .filter(
        (c) => (c.service_data.data as { inline_keyboard?: unknown } | undefined)?.inline_keyboard,
      );
  const answers = (): FakeServiceCall[] => ha.callsTo('telegram_bot.answer_callback_query');

  beforeAll(async () => {
    [engine, ha] = await Promise.all([
      startDockerd(),
      FakeHomeAssistant.start({ tokens: [TOKEN] }),
    ]);
    ha.services.add('notify.telegram_ops');
    ha.services.add('notify.mobile_app_pixel');
    await new EngineActions(engine.socketPath, engine.imageRef).run('db');
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
  - { action: restart_container, target: "local/*", decision: approve }
remediation: { approvers: [ops, "telegram:4242", "ha:5a1e0c7f"] }
home_assistant:
  url: ${ha.url}
  token_env: OUTPOST_TEST_HA_TOKEN
  timeout: 5s
  group_window: 200ms
  notify:
    - { service: notify.telegram_ops }
    - { service: notify.mobile_app_pixel }
`,
      { OUTPOST_TEST_HA_TOKEN: TOKEN },
    );
    await agent.running(30_000);
    await eventually(() => expect(ha.subscribed()).toContain('telegram_callback'));
    ops = await observer(url, { username: 'ops', password: 'ops-secret' });
  }, 180_000);

  afterAll(async () => {
    await ops?.endAsync();
    await agent?.cleanup();
    await Promise.all([ha?.stop(), engine?.stop()]);
  });

  it('sends the pending action with approve / reject buttons, refuses a stranger, restarts for an approver', async () => {
    const before = await startedAt();
    await ops.publishAsync(
      'outpost/edge/cmd/restart_container',
      JSON.stringify({ id: 'db-restart-1', target: 'local/db', reason: 'slow' }),
      { qos: 1 },
    );
    const sent = await eventually(() => {
      const [k] = keyboards();
      expect(k).toBeDefined();
      return k!;
    });
    expect(sent.service_data).toMatchObject({
      title: 'Restart of local/db needs approval',
      message: expect.stringContaining('waiting for approval') as string,
      data: {
        inline_keyboard: [
          [
            ['Approve', '/outpost_approve db-restart-1'],
            ['Reject', '/outpost_reject db-restart-1'],
          ],
        ],
      },
    });

    // A stranger: refused, told so, audited; the container untouched.
    ha.fire('telegram_callback', {
      id: 'cb-1',
      chat_id: 100,
      user_id: 999,
      data: '/outpost_approve db-restart-1',
      from_first: 'Mallory',
    });
    await eventually(() => expect(answers()).toHaveLength(1));
    expect(answers()[0]!.service_data).toMatchObject({
      callback_query_id: 'cb-1',
      message: expect.stringMatching(
        /^Not allowed: telegram:999 is not in remediation\.approvers/,
      ) as string,
    });
    expect(await startedAt()).toBe(before);

    // Someone else's button: not ours to answer. The next press's answer comes after it.
    ha.fire('telegram_callback', { id: 'cb-x', user_id: 4242, data: '/lights_on kitchen' });
    ha.fire('telegram_callback', {
      id: 'cb-2',
      chat_id: 100,
      user_id: 4242,
      data: '/outpost_approve db-restart-1',
    });
    await eventually(() => expect(answers()).toHaveLength(2));
    expect(answers()[1]!.service_data).toMatchObject({
      callback_query_id: 'cb-2',
      message: 'Approved',
    });
    await eventually(async () => expect(await startedAt()).not.toBe(before), { timeout: 60_000 });
    const action = 'outpost/edge/actions/db-restart-1';
    await eventually(
      async () =>
        expect(JSON.parse((await retained(url, action)).get(action) ?? '{}')).toMatchObject({
          status: 'completed',
        }),
      { timeout: 60_000 },
    );

    // Pressed again: the action ended.
    ha.fire('telegram_callback', {
      id: 'cb-3',
      user_id: 4242,
      data: '/outpost_approve db-restart-1',
    });
    await eventually(() => expect(answers()).toHaveLength(3));
    expect(answers()[2]!.service_data).toMatchObject({
      callback_query_id: 'cb-3',
      message: 'Already approved',
    });
    expect(answers().map((a) => a.service_data.callback_query_id)).not.toContain('cb-x');

    // The audit names the Telegram users: the stranger refused, the approver approved.
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(
      audit.filter((e) => e.kind === 'approval').map((e) => [e.who, e.outcome, e.action_id]),
    ).toEqual([
      ['telegram:999', 'refused', 'db-restart-1'],
      ['telegram:4242', 'approved', 'db-restart-1'],
    ]);
    expect(ha.violations).toEqual([]);
    expect(agent.output()).not.toContain(TOKEN);
  }, 180_000);

  it('rejects from the companion app as the Home Assistant user behind the press', async () => {
    const before = await startedAt();
    await ops.publishAsync(
      'outpost/edge/cmd/restart_container',
      JSON.stringify({ id: 'db-restart-2', target: 'local/db' }),
      { qos: 1 },
    );
    const app = await eventually(() => {
      const m = ha
        .callsTo('notify.mobile_app_pixel')
        .find((c) => JSON.stringify(c.service_data).includes('db-restart-2'));
      expect(m).toBeDefined();
      return m!;
    });
    expect(app.service_data.data).toEqual({
      actions: [
        { action: 'OUTPOST_APPROVE_db-restart-2', title: 'Approve' },
        { action: 'OUTPOST_REJECT_db-restart-2', title: 'Reject' },
      ],
    });
    // No user behind the press (an automation): refused before remediation hears it.
    ha.fire('mobile_app_notification_action', { action: 'OUTPOST_APPROVE_db-restart-2' }, null);
    ha.fire(
      'mobile_app_notification_action',
      { action: 'OUTPOST_REJECT_db-restart-2' },
      '5a1e0c7f',
    );
    const action = 'outpost/edge/actions/db-restart-2';
    await eventually(async () =>
      expect(JSON.parse((await retained(url, action)).get(action) ?? '{}')).toMatchObject({
        status: 'rejected',
      }),
    );
    expect(await startedAt()).toBe(before);
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(
      audit
        .filter((e) => e.action_id === 'db-restart-2' && e.kind === 'rejection')
        .map((e) => [e.who, e.outcome]),
    ).toEqual([['ha:5a1e0c7f', 'rejected']]);
    expect(audit.filter((e) => e.action_id === 'db-restart-2' && e.kind === 'approval')).toEqual(
      [],
    );
  }, 120_000);
});
