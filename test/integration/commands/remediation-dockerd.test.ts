import { chmod } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { containerExecutor } from '../../../src/commands/executors/from-config.js';
import { Remediation } from '../../../src/commands/remediation.js';
import { ManualClock, systemClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { topics } from '../../../src/core/topics.js';
import { SshConnection, sshTarget } from '../../../src/hosts/ssh-connection.js';
import type { MqttLink } from '../../../src/mqtt/client.js';
import { readAudit } from '../../helpers/audit-file.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { link, waitUntil } from '../../helpers/mqtt.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { unixHttpJson } from '../../helpers/unix-http.js';
import { EngineActions } from '../containers/helpers.js';
import { configWith, ROOT } from '../../unit/commands/harness.js';
import { CommandClient } from './client.js';

const MIN = 60_000;

/**
 * Remediation end to end: commands over a real mosquitto (MQTT 5 request/response and
 * the 3.1.1 result topic), the policy, the file action store and audit log, and restarts
 * through a real dockerd — by its API (host `local`) and by the docker CLI over a real
 * sshd (host `nas`). Policy time (backoff, budget, expiry) runs on a ManualClock; the
 * executor's verification waits on the real one.
 */
describe('remediation against mosquitto and dockerd', () => {
  let broker: MosquittoBroker;
  let dockerd: ContainerEngine;
  let sshd: SshdServer;
  let dir: string;
  let agent: MqttLink;
  let client: CommandClient;
  let act: EngineActions;
  let clock: ManualClock;
  let rem: Remediation;
  const events: NewEvent[] = [];

  const config = () =>
    configWith(dir, {
      hosts: [
        { id: 'local', engine: { socket: dockerd.socketPath } },
        {
          id: 'nas',
          ssh: {
            host: sshd.host,
            port: sshd.port,
            user: sshd.user,
            key_file: sshd.clientKeyPath,
            host_key: sshd.hostKeyFingerprint,
          },
          engine: { command: ['docker', '-H', `unix://${dockerd.socketPath}`] },
        },
      ],
      policy: [
        { action: 'restart_container', target: 'local/db', decision: 'approve' },
        { action: '*', target: 'local/web*', decision: 'allow' },
        { action: 'restart_container', target: 'local/crashy', decision: 'allow' },
        { action: 'restart_container', target: 'nas/*', decision: 'allow' },
      ],
      broker: { users: [{ username: 'alice', password: 'pw' }] },
      remediation: { verify_timeout: '20s', approvers: ['alice'] },
    });

  const startRemediation = async () => {
    const cfg = config();
    rem = await Remediation.create({
      config: cfg,
      root: ROOT,
      mqtt: agent,
      clock,
      log: silentLogger(),
      record: (e) => events.push(e),
      executors: [containerExecutor(cfg, { clock: systemClock, log: silentLogger() })],
      random: () => 0.5,
    });
    await rem.start();
  };

  const startedAt = async (name: string) =>
    (
      await unixHttpJson<{ State: { StartedAt: string; Status: string } }>(
        dockerd.socketPath,
        `/containers/${name}/json`,
      )
    ).State;
  const actionTopic = (id: string) => topics.action(ROOT, id);
  const audit = () => readAudit(dir);

  beforeAll(async () => {
    [broker, dockerd, sshd] = await Promise.all([
      startMosquitto({ listeners: ['anonymous'] }),
      startDockerd(),
      startSshd(),
    ]);
    await chmod(dockerd.socketPath, 0o666); // the SSH user runs the docker CLI against it
    dir = await makeTempDir('remediation-it');
    act = new EngineActions(dockerd.socketPath, dockerd.imageRef);
    await Promise.all(['web', 'web2', 'db', 'other', 'remote'].map((n) => act.run(n)));
    await act.run('crashy', { cmd: ['sh', '-c', 'sleep 1; exit 3'] });
    clock = new ManualClock(Date.now());
    agent = link({ url: broker.url, protocol: '5' });
    await agent.start();
    client = await CommandClient.connect(broker.url, ROOT, 5);
    await startRemediation();
  }, 180_000);

  afterAll(async () => {
    await rem?.stop();
    await client?.end();
    await agent?.stop();
    await Promise.all([broker?.stop(), dockerd?.stop(), sshd?.stop()]);
    if (dir) await removeTempDir(dir);
  });

  it('denies by default: an error answer and the container untouched', async () => {
    const before = await startedAt('other');
    const a = await client.request('restart_container', { target: 'local/other' });
    expect(a).toMatchObject({ ok: false, error: { code: 'not_allowed', field: 'target' } });
    expect(await startedAt('other')).toEqual(before);
  });

  it('restarts through the engine API and verifies it (MQTT 5 request / response)', async () => {
    const before = await startedAt('web');
    const a = await client.request('restart_container', {
      id: 'it-web-1',
      target: 'local/web',
      requested_by: 'it',
    });
    expect(a).toMatchObject({ ok: true, status: 'completed', action_id: 'it-web-1' });
    const after = await startedAt('web');
    expect(after.Status).toBe('running');
    expect(after.StartedAt).not.toBe(before.StartedAt);
    await waitUntil(
      () => client.retainedJson<ActionRecord>(actionTopic('it-web-1'))?.status === 'completed',
      'retained action',
    );
  });

  it('the same id twice restarts once and answers twice (3.1.1 result topic)', async () => {
    await client.client.publishAsync(
      'outpost/n1/cmd/stop_container',
      JSON.stringify({ id: 'twice', target: 'local/web2' }),
      { qos: 1 },
    );
    const answers = await client.send('stop_container', { id: 'twice', target: 'local/web2' }, 2);
    expect(answers.map((a) => [a.ok, a.status, a.duplicate ?? false])).toEqual([
      [true, 'completed', false],
      [true, 'completed', true],
    ]);
    expect((await startedAt('web2')).Status).toBe('exited');
    expect(
      (await audit()).filter((e) => e.kind === 'result' && e.action_id === 'twice'),
    ).toHaveLength(1);
    expect(await client.request('start_container', { target: 'local/web2' })).toMatchObject({
      status: 'completed',
    });
    expect((await startedAt('web2')).Status).toBe('running');
  });

  it('a dry run changes nothing', async () => {
    const before = await startedAt('web');
    const a = await client.request('restart_container', {
      id: 'dry',
      target: 'local/web',
      dry_run: true,
    });
    expect(a).toMatchObject({
      ok: true,
      dry_run: true,
      decision: { verdict: 'deny', code: 'backoff' },
    });
    clock.advance(MIN);
    expect(
      await client.request('restart_container', { id: 'dry2', target: 'local/web', dry_run: true }),
    ).toMatchObject({ decision: { verdict: 'allow' } });
    expect(await startedAt('web')).toEqual(before);
    expect(client.retained.has(actionTopic('dry'))).toBe(false);
    expect(client.retained.has(actionTopic('dry2'))).toBe(false);
  });

  it('approval end to end: pending, retained summary, MQTT approval refused, approved by a person, restarted', async () => {
    const before = await startedAt('db');
    const held = await client.request('restart_container', {
      id: 'db-1',
      target: 'local/db',
      reason: 'slow',
    });
    expect(held).toMatchObject({ ok: true, status: 'pending' });
    await waitUntil(
      () => client.retainedJson<{ pending: number }>(topics.pendingActions(ROOT))?.pending === 1,
      'pending summary',
    );
    expect(await startedAt('db')).toEqual(before);
    // An external broker cannot say who published: an approval over it is refused, and
    // naming an approver in the payload changes nothing.
    expect(
      await client.request('approve', { target: 'db-1', requested_by: 'alice' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'not_allowed', message: expect.stringMatching(/cannot tell who published/) },
    });
    expect(rem.api.pending().map((r) => r.id)).toEqual(['db-1']);
    // The channel that carries a person's identity (the HA / Telegram bridge's API).
    const ok = await rem.api.approve('db-1', 'alice');
    expect(ok).toMatchObject({ ok: true, status: 'completed' });
    expect((await startedAt('db')).StartedAt).not.toBe(before.StartedAt);
    await waitUntil(
      () => client.retainedJson<{ pending: number }>(topics.pendingActions(ROOT))?.pending === 0,
      'summary back to 0',
    );
    // The API answered; the retained record reaches this client over the broker.
    await waitUntil(
      () => client.retainedJson<ActionRecord>(actionTopic('db-1'))?.status === 'completed',
      'the completed record',
    );
    const rec = client.retainedJson<ActionRecord>(actionTopic('db-1'))!;
    expect(rec.history.map((h) => h.status)).toEqual([
      'pending',
      'approved',
      'running',
      'completed',
    ]);
  });

  it('expiry: a pending action nobody approves expires, and survives a restart meanwhile', async () => {
    const held = await client.request('restart_container', { id: 'db-2', target: 'local/db' });
    expect(held.status).toBe('pending');
    await rem.stop();
    await startRemediation();
    expect(rem.api.pending().map((r) => r.id)).toEqual(['db-2']);
    clock.advance(30 * MIN);
    await waitUntil(
      () => client.retainedJson<ActionRecord>(actionTopic('db-2'))?.status === 'expired',
      'expired',
    );
    expect(await client.request('approve', { target: 'db-2' })).toMatchObject({
      ok: false,
      error: { code: 'not_pending' },
    });
  });

  it('restart budget and backoff on the controlled clock, then approval', async () => {
    clock.advance(60 * MIN); // a fresh budget window for web
    const restart = () => client.request('restart_container', { target: 'local/web' });
    expect(await restart()).toMatchObject({ status: 'completed' });
    expect(await restart()).toMatchObject({
      ok: false,
      error: { code: 'backoff' },
      retry_after_s: 9,
    });
    clock.advance(9_000);
    expect(await restart()).toMatchObject({ status: 'completed' });
    clock.advance(18_000);
    expect(await restart()).toMatchObject({ status: 'completed' });
    clock.advance(36_000);
    const over = await restart();
    expect(over).toMatchObject({ ok: true, status: 'pending' });
    expect(events.filter((e) => e.type === 'remediation_pending').at(-1)).toMatchObject({
      data: { decision: 'over_budget', notify: true },
    });
    expect(await rem.api.reject(String(over.action_id), 'alice')).toMatchObject({
      status: 'rejected',
    });
    // Three real restarts, each waited on until the engine has the container running again:
    // on a loaded machine that is more than the default 30 s.
  }, 120_000);

  it('a restart that does not come back is failed (exit code in the message)', async () => {
    // crashy exits 3 a second after it starts: the engine answers this wait once it has.
    const exited = await unixHttpJson<{ StatusCode: number }>(
      dockerd.socketPath,
      '/containers/crashy/wait?condition=not-running',
      { method: 'POST', timeoutMs: 60_000 },
    );
    expect(exited.StatusCode).toBe(3);
    expect((await startedAt('crashy')).Status).toBe('exited');
    const a = await client.request('restart_container', { target: 'local/crashy' });
    expect(a).toMatchObject({ ok: false, status: 'failed', error: { code: 'failed' } });
    expect(a.message).toMatch(/exit code 3|still exited/);
    expect(events.at(-1)).toMatchObject({ type: 'remediation_failed', data: { notify: true } });
  });

  it('restarts over SSH with the engine CLI', async () => {
    const before = await startedAt('remote');
    const a = await client.request('restart_container', { target: 'nas/remote' });
    expect(a).toMatchObject({ ok: true, status: 'completed' });
    expect((await startedAt('remote')).StartedAt).not.toBe(before.StartedAt);
    const missing = await client.request('restart_container', { target: 'nas/nope' });
    expect(missing).toMatchObject({
      ok: false,
      status: 'failed',
      message: 'no container nope on nas',
    });
  });

  it('restarts over the SSH connection the host’s collector keeps, opening none', async () => {
    const cfg = config();
    const nas = cfg.hosts.find((h) => h.id === 'nas')!;
    // The connection a collector owns; the executor only borrows it.
    const kept = new SshConnection({
      name: 'nas',
      target: sshTarget(nas.ssh!),
      clock: systemClock,
      log: silentLogger(),
    });
    await kept.start();
    let commands = 0;
    const borrowed = {
      exec: (command: string, opts: Parameters<SshConnection['exec']>[1]) => {
        commands++;
        return kept.exec(command, opts);
      },
    };
    try {
      const lent = containerExecutor(cfg, {
        clock: systemClock,
        log: silentLogger(),
        runnerFor: (host) => (host === 'nas' ? borrowed : undefined),
      });
      await lent.start();
      expect(commands).toBe(0); // starting opened nothing
      const before = await startedAt('remote');
      const req = { actionId: 'kept-1', action: 'restart_container' as const, args: {} };
      expect(await lent.run({ ...req, target: 'nas/remote' })).toMatchObject({ ok: true });
      expect((await startedAt('remote')).StartedAt).not.toBe(before.StartedAt);
      expect(commands).toBeGreaterThan(0);
      // No connection to lend: the action fails and says why.
      const none = containerExecutor(cfg, {
        clock: systemClock,
        log: silentLogger(),
        runnerFor: () => undefined,
      });
      await expect(none.run({ ...req, target: 'nas/remote' })).rejects.toThrow(
        /nas: no SSH connection/,
      );
      await lent.stop();
      expect(kept.connected).toBe(true); // the owner's to close
    } finally {
      await kept.stop();
    }
  });
});
