import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { topics, type TopicRoot } from '../../../src/core/topics.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { pollUntil, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { EngineActions } from '../containers/helpers.js';
import { CommandClient } from './client.js';

const ROOT: TopicRoot = { base: 'outpost', node: 'edge' };

interface AuditLine {
  kind: string;
  who: string;
  outcome: string;
  action: string;
  target: string | null;
  action_id: string | null;
  message?: string;
  detail?: Record<string, unknown>;
}

/**
 * Issue 14, points 5 and 6, through the agent process, its embedded broker and a real
 * dockerd: commands on targets that do not exist are refused when they arrive, never
 * parked for approval.
 */
describe('the agent refuses commands early and offers stable approval entities', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let url: string;
  let client: CommandClient;

  const audit = async (): Promise<AuditLine[]> =>
    (await readFile(join(agent.dir, 'data', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditLine);

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
    client = await CommandClient.connect(url, ROOT, 4);
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
});
