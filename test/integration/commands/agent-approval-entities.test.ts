import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecord, PendingSummary } from '../../../src/commands/actions.js';
import type { Answer } from '../../../src/commands/command.js';
import { topics, type TopicRoot } from '../../../src/core/topics.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { Collector, observer, pollUntil, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { EngineActions } from '../containers/helpers.js';
import { readAudit } from '../../helpers/audit-file.js';
import { CommandClient } from './client.js';

const ROOT: TopicRoot = { base: 'outpost', node: 'edge' };

const CONFIG = 'homeassistant/button/outpost_edge';
const SELECT = 'homeassistant/select/outpost_edge/remediation_selected/config';

interface ButtonConfig {
  name: string;
  unique_id: string;
  command_topic: string;
  payload_press: string;
}

interface SelectConfig {
  name: string;
  unique_id: string;
  state_topic: string;
  value_template: string;
  command_topic: string;
  command_template: string;
  options: string[];
}

/**
 * Issue 14, points 5 and 6, through the agent process, its embedded broker and a real
 * dockerd: commands on targets that do not exist are refused when they arrive, never
 * parked for approval; the fixed approval entities are discovered, follow the pending
 * list, and decide exactly the action they name when pressed as Home Assistant would.
 */
describe('the agent refuses commands early and offers stable approval entities', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let url: string;
  let client: CommandClient;

  const audit = () => readAudit(join(agent.dir, 'data'));

  beforeAll(async () => {
    engine = await startDockerd();
    const act = new EngineActions(engine.socketPath, engine.imageRef);
    await act.run('db');
    await act.run('web');
    await act.run('idle', { start: false }); // exists, never started: still a valid target
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
    - { username: guest, password: guest-secret }
    - { username: cli, password: cli-secret }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
policy:
  - { action: restart_container, target: "local/*", decision: approve }
remediation: { approvers: [ha, ops] }
`,
    );
    await agent.running(20_000);
    // Refusing needs a complete listing of the host: its containers' states say it is in.
    await pollUntil(
      () => retained(url, `${topics.host(ROOT, 'local')}/containers/#`),
      (m) => ['db', 'web', 'idle'].every((n) => m.has(topics.container(ROOT, 'local', n))),
      'the containers of local to be listed',
    );
    // The embedded broker speaks MQTT 3.1.1: answers come on the result topics.
    // Logged in: anonymous logins may not command (remediation.anonymous_commands).
    client = await CommandClient.connect(url, ROOT, 4, { username: 'cli', password: 'cli-secret' });
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await agent?.cleanup();
    await engine?.stop();
  });

  describe('commands on targets that do not exist', () => {
    it('refuses an unknown host and an unknown container at once, naming what exists', async () => {
      const [host] = await client.send('restart_container', { id: 'nf-host', target: 'nas/db' });
      expect(host).toMatchObject({
        ok: false,
        id: 'nf-host',
        error: {
          code: 'not_found',
          field: 'target',
          message: 'no host nas with a container engine configured (hosts with one: local)',
        },
      });
      const [ct] = await client.send('restart_container', { id: 'nf-ct', target: 'local/nope' });
      expect(ct).toMatchObject({
        ok: false,
        id: 'nf-ct',
        error: {
          code: 'not_found',
          field: 'target',
          message: 'no container nope on local as last observed (it has: db, idle, web)',
        },
      });
      expect(ct).not.toHaveProperty('status');
      // Nothing was parked: no action record, nothing pending.
      const kept = await retained(url, `${ROOT.base}/${ROOT.node}/actions/#`);
      expect([...kept.keys()]).toEqual([]);
      const lines = (await audit()).filter((e) => e.target === 'local/nope');
      expect(lines.map((e) => [e.kind, e.outcome, e.action_id])).toEqual([
        ['command', 'received', 'nf-ct'],
        ['decision', 'refused', 'nf-ct'],
      ]);
      expect(lines[1]!.message).toBe(ct!.error!.message);
    });

    it('takes a stopped container as a valid target: the restart waits for approval', async () => {
      const [a] = await client.send('restart_container', { id: 'idle-1', target: 'local/idle' });
      expect(a).toMatchObject({ ok: true, status: 'pending', action_id: 'idle-1' });
      const topic = topics.action(ROOT, 'idle-1');
      const rec = await pollUntil(
        () => retained(url, topic),
        (m) => m.has(topic),
        'the pending action',
      );
      expect(JSON.parse(rec.get(topic)!) as ActionRecord).toMatchObject({
        status: 'pending',
        target: 'local/idle',
      });
    });
  });

  describe('the fixed approval entities, pressed as Home Assistant would', () => {
    let ha: MqttClient;
    let ops: MqttClient;
    let guest: MqttClient;
    let answers: Collector;
    /** The action the container restart button made (its id came from the agent). */
    let dbId: string;

    /** A retained JSON message once `ok` holds for it. */
    const retainedJson = async <T>(topic: string, ok: (v: T) => boolean, what: string) => {
      const m = await pollUntil(
        () => retained(url, topic),
        (m) => m.has(topic) && ok(JSON.parse(m.get(topic)!) as T),
        what,
        30_000,
      );
      return JSON.parse(m.get(topic)!) as T;
    };
    const button = (key: string) =>
      retainedJson<ButtonConfig>(`${CONFIG}/${key}/config`, () => true, `the ${key} button`);
    const status = async (id: string) =>
      (await retainedJson<ActionRecord>(topics.action(ROOT, id), () => true, id)).status;
    /** Publishes a press (QoS 1, as HA does) and waits for its answer on the result topic. */
    const press = async (client: MqttClient, topic: string, payload: string): Promise<Answer> => {
      const before = answers.messages.length;
      await client.publishAsync(topic, payload, { qos: 1 });
      const result = `${topic}/result`;
      await answers.waitFor(
        () => answers.messages.slice(before).some((m) => m.topic === result),
        `the answer on ${result}`,
        30_000,
      );
      const got = answers.messages.slice(before).find((m) => m.topic === result)!;
      return JSON.parse(got.payload) as Answer;
    };
    /** What HA publishes for a choice: the select's command_template rendered with it. */
    const choice = (option: string) => JSON.stringify({ option, requested_by: 'home-assistant' });

    beforeAll(async () => {
      ha = await observer(url, { username: 'ha', password: 'ha-secret' });
      ops = await observer(url, { username: 'ops', password: 'ops-secret' });
      guest = await observer(url, { username: 'guest', password: 'guest-secret' });
      answers = await new Collector(guest).subscribe(`${ROOT.base}/${ROOT.node}/cmd/+/result`);
    });

    afterAll(async () => {
      await Promise.all([ha?.endAsync(), ops?.endAsync(), guest?.endAsync()]);
    }, 120_000);

    it('publishes the buttons and the select with fixed ids and exact payloads', async () => {
      const expected: [string, string, string][] = [
        [
          'remediation_approve_oldest',
          'approve',
          '{"oldest":true,"requested_by":"home-assistant"}',
        ],
        ['remediation_reject_oldest', 'reject', '{"oldest":true,"requested_by":"home-assistant"}'],
        [
          'remediation_approve_selected',
          'approve',
          '{"selected":true,"requested_by":"home-assistant"}',
        ],
        [
          'remediation_reject_selected',
          'reject',
          '{"selected":true,"requested_by":"home-assistant"}',
        ],
      ];
      for (const [key, verdict, press] of expected) {
        expect(await button(key), key).toMatchObject({
          unique_id: `outpost_edge_${key}`,
          command_topic: `outpost/edge/cmd/${verdict}`,
          payload_press: press,
        });
      }
      const select = await retainedJson<SelectConfig>(
        SELECT,
        (c) => c.options.length === 2,
        'the select listing local/idle',
      );
      expect(select).toMatchObject({
        name: 'Pending action',
        unique_id: 'outpost_edge_remediation_selected',
        state_topic: 'outpost/edge/remediation/pending',
        value_template: `{{ value_json['selected']['option'] if value_json.get('selected') else "(none)" }}`,
        command_topic: 'outpost/edge/cmd/select',
        command_template: "{{ {'option': value, 'requested_by': 'home-assistant'} | tojson }}",
        options: ['(none)', 'restart container local/idle (idle-1)'],
      });
    }, 120_000);

    it("the select's options follow the pending list", async () => {
      // Ops presses the container's restart button: the agent makes the action's id.
      const restart = await button('local_container_db_restart');
      expect(await press(ops, restart.command_topic, restart.payload_press)).toMatchObject({
        ok: true,
        status: 'pending',
      });
      const summary = await retainedJson<PendingSummary>(
        topics.pendingActions(ROOT),
        (p) => p.pending === 2,
        'two pending actions',
      );
      dbId = summary.actions.find((a) => a.target === 'local/db')!.id;
      expect(summary.actions.map((a) => a.target)).toEqual(['local/idle', 'local/db']);
      const select = await retainedJson<SelectConfig>(
        SELECT,
        (c) => c.options.length === 3,
        'the select listing local/db',
      );
      expect(select.options).toEqual([
        '(none)',
        'restart container local/idle (idle-1)',
        `restart container local/db (${dbId})`,
      ]);
    }, 120_000);

    it('approve selected decides the chosen action; a non-approver is refused and audited', async () => {
      const select = await retainedJson<SelectConfig>(SELECT, () => true, 'the select');
      const approve = await button('remediation_approve_selected');
      const dbOption = `restart container local/db (${dbId})`;
      expect(await press(ha, select.command_topic, choice(dbOption))).toMatchObject({
        ok: true,
        action_id: dbId,
      });
      await retainedJson<PendingSummary>(
        topics.pendingActions(ROOT),
        (p) => p.selected?.option === dbOption,
        'the choice in the summary',
      );
      // A user who may not approve can neither press nor change the choice.
      expect(await press(guest, approve.command_topic, approve.payload_press)).toMatchObject({
        ok: false,
        error: { code: 'not_allowed', message: 'guest is not in remediation.approvers' },
      });
      const idleOption = 'restart container local/idle (idle-1)';
      expect(await press(guest, select.command_topic, choice(idleOption))).toMatchObject({
        ok: false,
        error: { code: 'not_allowed' },
      });
      expect(await status(dbId)).toBe('pending');

      expect(await press(ha, approve.command_topic, approve.payload_press)).toMatchObject({
        ok: true,
        status: 'completed',
        action_id: dbId,
        target: 'local/db',
      });
      expect(await status('idle-1')).toBe('pending');
      const after = await retainedJson<SelectConfig>(
        SELECT,
        (c) => c.options.length === 2,
        'the select without local/db',
      );
      expect(after.options).toEqual(['(none)', idleOption]);
    }, 120_000);

    it('approve oldest decides the action that waited longest: a stopped container starts', async () => {
      const approve = await button('remediation_approve_oldest');
      expect(await press(ops, approve.command_topic, approve.payload_press)).toMatchObject({
        ok: true,
        status: 'completed',
        action_id: 'idle-1',
        target: 'local/idle',
      });
      await retainedJson<PendingSummary>(
        topics.pendingActions(ROOT),
        (p) => p.pending === 0 && p.selected === null,
        'nothing pending',
      );
      expect(await press(ops, approve.command_topic, approve.payload_press)).toMatchObject({
        ok: false,
        error: { code: 'not_found', field: 'oldest', message: 'no action is pending' },
      });
    }, 120_000);

    it('audits every step with the action id, the HA button path included', async () => {
      const lines = await audit();
      const of = (id: string) =>
        lines
          .filter((e) => e.action_id === id)
          .map((e) => [e.kind, e.who, e.outcome, e.detail?.pick ?? null]);
      expect(of(dbId)).toEqual([
        ['command', 'ops', 'received', null],
        ['decision', 'ops', 'approve', null],
        ['command', 'ha', 'received', null],
        ['selection', 'ha', 'selected', null],
        ['command', 'guest', 'received', 'selected'],
        ['approval', 'guest', 'refused', 'selected'],
        ['command', 'ha', 'received', 'selected'],
        ['approval', 'ha', 'approved', null],
        ['result', 'agent', 'completed', null],
      ]);
      expect(of('idle-1')).toEqual([
        ['command', 'cli', 'received', null],
        ['decision', 'cli', 'approve', null],
        ['command', 'guest', 'received', null],
        ['selection', 'guest', 'refused', null],
        ['command', 'ops', 'received', 'oldest'],
        ['approval', 'ops', 'approved', null],
        ['result', 'agent', 'completed', null],
      ]);
    });
  });
});
