import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { readAudit } from '../../helpers/audit-file.js';
import { eventually } from '../../helpers/eventually.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { getFreePorts } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { backupEvents, hangScript, jobState, notRunning, script } from './helpers.js';

const TOKEN = 'a-ping-token-of-32-characters-00';

/**
 * Issue #17 end to end through the agent process as it ships: real local scripts run by
 * "Run now" (through the policy), reports over the embedded broker, Healthchecks-style
 * pings on its HTTP listener, and an approval-gated run from Home Assistant's button.
 */
describe('backups through the agent', () => {
  let agent: AgentProcess;
  let tmp: string;
  let url: string;
  let http: string;
  let ops: MqttClient;
  let answers: Collector;

  beforeAll(async () => {
    tmp = await makeTempDir('backups');
    const good = await script(
      tmp,
      'good.sh',
      'mkdir -p "$1"; head -c 5000 /dev/zero > "$1/dump"; echo dumped',
    );
    const flaky = await script(
      tmp,
      'flaky.sh',
      '[ -e "$1" ] && { echo fine; exit 0; }\necho "pg_dump: connection refused" >&2\nexit 3',
    );
    // The leader and a child of its own: a timeout must kill the whole group.
    const hang = await hangScript(tmp);
    const tick = await script(tmp, 'tick.sh', 'date +%s >> "$1"');
    const [mqttPort, httpPort] = await getFreePorts(2);
    url = `mqtt://127.0.0.1:${mqttPort}`;
    http = `http://127.0.0.1:${httpPort}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${mqttPort}"
  users:
    - { username: ops, password: ops-secret }
    - { username: ha, password: ha-secret }
http: { enabled: true, listen: "127.0.0.1:${httpPort}" }
backups:
  ping_token: ${TOKEN}
  tail: 1KiB
  jobs:
    - { name: good, command: [${good}, ${tmp}/out], max_age: 1h, size: { path: ${tmp}/out } }
    - { name: flaky, command: [${flaky}, ${tmp}/flag], max_age: 1h }
    - { name: hang, command: [${hang}, ${tmp}], timeout: 1s, max_age: 1h }
    - { name: gated, command: [${good}, ${tmp}/gated], max_age: 1h }
    - { name: etcd, max_age: 1h }
    - { name: k8s, max_age: 1h }
    - { name: ticker, command: [${tick}, ${tmp}/ticks], schedule: "*/2 * * * * *", max_age: 1h }
policy:
  - { action: run_backup, target: gated, decision: approve }
  - { action: run_backup, target: "*", decision: allow }
remediation: { approvers: [ha] }
`,
    );
    await agent.running(30_000);
    ops = await observer(url, { username: 'ops', password: 'ops-secret' });
    answers = await new Collector(ops).subscribe('outpost/edge/cmd/run_backup/result');
  }, 60_000);

  afterAll(async () => {
    await ops?.endAsync();
    await agent?.cleanup();
    if (tmp) await removeTempDir(tmp);
  });

  const runNow = (job: string) =>
    ops.publishAsync('outpost/edge/cmd/run_backup', JSON.stringify({ target: job }), { qos: 1 });
  const events = () => backupEvents(join(agent.dir, 'data'));

  it('shows every job as never_run with its entities on the host’s device', async () => {
    expect(await eventually(async () => (await jobState(url, 'etcd'))!)).toMatchObject({
      status: 'never_run',
      problem: false,
      last_success: null,
    });
    const configs = await eventually(async () => {
      const m = await retained(url, 'homeassistant/+/outpost_edge/+/config');
      expect(m.has('homeassistant/button/outpost_edge/local_backup_good_run/config')).toBe(true);
      return m;
    });
    const status = JSON.parse(
      configs.get('homeassistant/sensor/outpost_edge/local_backup_good_status/config')!,
    ) as Record<string, unknown>;
    expect(status).toMatchObject({
      state_topic: 'outpost/edge/backups/good',
      options: ['ok', 'running', 'failed', 'late', 'never_run'],
      device: { identifiers: ['outpost_edge_local'] },
    });
    // A reported job has no "Run now": the agent cannot run it.
    expect(configs.has('homeassistant/button/outpost_edge/local_backup_etcd_run/config')).toBe(
      false,
    );
  });

  it('runs a script that succeeds: exit code, duration, size of its path', async () => {
    await runNow('good');
    const s = await eventually(async () => {
      const st = await jobState(url, 'good');
      expect(st?.status).toBe('ok');
      return st!;
    });
    expect(s).toMatchObject({
      exit_code: 0,
      last_outcome: 'success',
      problem: false,
      message: 'dumped',
    });
    expect(s.size).toBeGreaterThanOrEqual(4096);
    expect(s.duration).toBeGreaterThanOrEqual(0);
    const [ok] = (await events()).filter((e) => e.subject === 'local/good');
    expect(ok).toMatchObject({
      type: 'backup_succeeded',
      severity: 'info',
      data: { job: 'good', exit_code: 0, trigger: 'run_now', stdout_tail: 'dumped\n' },
    });
  });

  it('opens one incident for a failing script and closes it on the next success', async () => {
    await runNow('flaky');
    await eventually(async () => expect((await jobState(url, 'flaky'))?.status).toBe('failed'));
    await writeFile(join(tmp, 'flag'), '');
    await runNow('flaky');
    await eventually(async () => expect((await jobState(url, 'flaky'))?.status).toBe('ok'));
    const es = (await events()).filter((e) => e.subject === 'local/flaky');
    expect(es.map((e) => e.type)).toEqual(['backup_failed', 'backup_succeeded']);
    expect(es[0]!.data).toMatchObject({
      reason: 'exit code 3',
      exit_code: 3,
      stderr_tail: 'pg_dump: connection refused\n',
      title: 'Backup local/flaky failed',
      message: 'local/flaky failed: exit code 3 (pg_dump: connection refused)',
      incident: { status: 'open' },
    });
    const opened = (es[0]!.data.incident as { id: string }).id;
    expect(es[1]!.data.incident).toMatchObject({ id: opened, status: 'closed' });
    await rm(join(tmp, 'flag'));
  });

  it('kills a script that hangs past its timeout, its whole process group, and refuses a second run meanwhile', async () => {
    await runNow('hang');
    await eventually(() => expect(existsSync(join(tmp, 'child'))).toBe(true));
    const leader = Number(await readFile(join(tmp, 'leader'), 'utf8'));
    const child = Number(await readFile(join(tmp, 'child'), 'utf8'));
    const before = answers.messages.length;
    await runNow('hang');
    await answers.waitFor(() => answers.messages.length >= before + 1, 'the second answer', 20_000);
    await eventually(async () => expect((await jobState(url, 'hang'))?.status).toBe('failed'));
    expect(notRunning(leader)).toBe(true);
    expect(notRunning(child)).toBe(true);
    const [failed] = (await events()).filter((e) => e.subject === 'local/hang');
    expect(failed!.data).toMatchObject({
      reason: 'timed out after 1 s and was killed',
      timed_out: true,
    });
    await eventually(() =>
      expect(agent.output()).toContain('backup already running: trigger refused'),
    );
  });

  it('takes good reports over MQTT and refuses a malformed one, changing nothing', async () => {
    const results = await new Collector(ops).subscribe('outpost/edge/backups/+/report/result');
    await ops.publishAsync('outpost/edge/backups/etcd/report', '{"status":"start"}', { qos: 1 });
    await eventually(async () => expect((await jobState(url, 'etcd'))?.status).toBe('running'));
    const report = { status: 'success', duration: 42, size: 1234, message: 'snapshot saved' };
    await ops.publishAsync('outpost/edge/backups/etcd/report', JSON.stringify(report), { qos: 1 });
    const ok = await eventually(async () => {
      const st = await jobState(url, 'etcd');
      expect(st?.status).toBe('ok');
      return st!;
    });
    expect(ok).toMatchObject({ duration: 42, size: 1234, message: 'snapshot saved' });

    await ops.publishAsync('outpost/edge/backups/etcd/report', '{"status":"done","size":-1}', {
      qos: 1,
    });
    await ops.publishAsync('outpost/edge/backups/nope/report', '{"status":"fail"}', { qos: 1 });
    await results.waitFor(() => results.messages.length >= 4, 'four answers', 20_000);
    expect(results.messages.map((m) => JSON.parse(m.payload) as unknown)).toEqual([
      { ok: true, job: 'etcd', status: 'start' },
      { ok: true, job: 'etcd', status: 'success' },
      {
        ok: false,
        job: 'etcd',
        error: {
          code: 'invalid',
          field: 'status',
          message: 'expected status start, success or fail, got "done"',
        },
      },
      {
        ok: false,
        job: 'nope',
        error: { code: 'not_found', field: 'job', message: 'no backup job nope in config' },
      },
    ]);
    expect(await jobState(url, 'etcd')).toEqual(ok);

    // Anyone on the LAN may log in anonymously and read; a report from them would let
    // them hide a failing backup, so it is refused as an anonymous command is.
    const stranger = await observer(url);
    try {
      await stranger.publishAsync('outpost/edge/backups/etcd/report', '{"status":"fail"}', {
        qos: 1,
      });
      await results.waitFor(() => results.messages.length >= 5, 'a fifth answer', 20_000);
    } finally {
      await stranger.endAsync();
    }
    expect(JSON.parse(results.messages[4]!.payload)).toMatchObject({
      ok: false,
      job: 'etcd',
      error: { code: 'not_allowed' },
    });
    expect(await jobState(url, 'etcd')).toEqual(ok);
  });

  it('takes Healthchecks-style pings: start, fail with a body, an exit code; refuses unknown jobs and bad tokens', async () => {
    const ping = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
      fetch(`${http}/ping/${path}`, {
        ...init,
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
    expect((await ping('k8s/start')).status).toBe(200);
    await eventually(async () => expect((await jobState(url, 'k8s'))?.status).toBe('running'));
    const fail = await ping('k8s/fail', {
      method: 'POST',
      body: 'line 1\nS3 upload: access denied\n',
    });
    expect(await fail.json()).toEqual({ ok: true, job: 'k8s', status: 'fail' });
    await eventually(async () =>
      expect(await jobState(url, 'k8s')).toMatchObject({
        status: 'failed',
        message: 'reported as failed: S3 upload: access denied',
      }),
    );
    const [failed] = (await events()).filter((e) => e.subject === 'local/k8s');
    expect(failed!.data).toMatchObject({
      via: 'http',
      detail: 'line 1\nS3 upload: access denied',
      reported_by: '127.0.0.1',
    });

    const before = await jobState(url, 'k8s');
    const unknown = await ping('nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      ok: false,
      error: { code: 'not_found', field: 'job' },
    });
    const bad = await ping('k8s', {}, 'not-the-token');
    expect(bad.status).toBe(401);
    expect((await fetch(`${http}/ping/k8s`)).status).toBe(401);
    expect(await jobState(url, 'k8s')).toEqual(before);

    // The token in the query works as well; exit code 0 is a success.
    expect((await fetch(`${http}/ping/k8s/0?token=${TOKEN}`)).status).toBe(200);
    await eventually(async () =>
      expect(await jobState(url, 'k8s')).toMatchObject({ status: 'ok', exit_code: 0 }),
    );
    expect((await ping('k8s/1')).status).toBe(200);
    await eventually(async () =>
      expect(await jobState(url, 'k8s')).toMatchObject({ status: 'failed', exit_code: 1 }),
    );
  });

  it('runs a job on its schedule (node-cron, seconds field)', async () => {
    await eventually(async () => {
      const ticks = (await readFile(join(tmp, 'ticks'), 'utf8').catch(() => '')).trim().split('\n');
      expect(ticks.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    });
    await eventually(async () => expect((await jobState(url, 'ticker'))?.status).toBe('ok'));
    const [first] = (await events()).filter((e) => e.subject === 'local/ticker');
    expect(first!.data).toMatchObject({ trigger: 'schedule', exit_code: 0 });
  });

  it('holds a gated "Run now" from Home Assistant for approval, then runs it', async () => {
    const button = JSON.parse(
      (await retained(url, 'homeassistant/button/#')).get(
        'homeassistant/button/outpost_edge/local_backup_gated_run/config',
      )!,
    ) as { command_topic: string; payload_press: string };
    await ops.publishAsync(button.command_topic, button.payload_press, { qos: 1 });
    const pending = await eventually(async () => {
      const m = await retained(url, 'outpost/edge/remediation/pending');
      const p = JSON.parse(m.get('outpost/edge/remediation/pending') ?? '{}') as {
        actions?: { id: string; action: string; target: string }[];
      };
      const a = p.actions?.find((x) => x.action === 'run_backup' && x.target === 'gated');
      expect(a).toBeDefined();
      return a!;
    });
    expect((await jobState(url, 'gated'))?.status).toBe('never_run');
    const ha = await observer(url, { username: 'ha', password: 'ha-secret' });
    await ha.publishAsync('outpost/edge/cmd/approve', JSON.stringify({ target: pending.id }), {
      qos: 1,
    });
    await ha.endAsync();
    await eventually(async () => expect((await jobState(url, 'gated'))?.status).toBe('ok'));
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(audit.filter((e) => e.kind === 'approval').map((e) => [e.who, e.outcome])).toEqual([
      ['ha', 'approved'],
    ]);
  });
});
