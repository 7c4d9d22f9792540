import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { ensureServers } from '../../helpers/apt.js';
import { eventually } from '../../helpers/eventually.js';
import { observer } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { backupEvents, hangScript, jobState, notRunning } from './helpers.js';

/**
 * Issue #17 over SSH, through the agent and the real sshd: a real rsync whose --stats
 * give the size, a remote command that hangs past its timeout — its process group on the
 * host is killed, not just the channel — and a watched directory read with the fixed age
 * script. The "remote" host is this machine seen through sshd as the test user.
 */
describe('backups on an SSH host', () => {
  let sshd: SshdServer;
  let agent: AgentProcess;
  let tmp: string;
  let url: string;
  let ops: MqttClient;

  beforeAll(async () => {
    await ensureServers(['rsync']);
    sshd = await startSshd();
    tmp = await makeTempDir('backups-ssh');
    const src = join(tmp, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'x'.repeat(1000));
    await writeFile(join(src, 'sub', 'b.txt'), 'y'.repeat(2345));
    // The test user writes the copy (rsync -a sets times on dst: its own) and the pid files.
    for (const d of ['out', 'pids', 'snaps']) {
      await mkdir(join(tmp, d));
      await chmod(join(tmp, d), 0o777);
    }
    const hang = await hangScript(tmp);
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${port}"
  users: [{ username: ops, password: ops-secret }]
hosts:
  - id: nas
    ssh:
      host: ${sshd.host}
      port: ${sshd.port}
      user: ${sshd.user}
      key_file: ${sshd.clientKeyPath}
      host_key: "${sshd.hostKeyFingerprint}"
backups:
  check_every: 500ms
  jobs:
    - name: photos
      host: nas
      command: [rsync, -a, --stats, ${src}/, ${tmp}/out/dst/]
      size: rsync_stats
      max_age: 1h
    - { name: stuck, host: nas, command: [${hang}, ${tmp}/pids], timeout: 2s, max_age: 1h }
    - { name: snaps, host: nas, watch_path: ${tmp}/snaps, max_age: 1h }
policy:
  - { action: run_backup, decision: allow }
`,
    );
    await agent.running(30_000);
    ops = await observer(url, { username: 'ops', password: 'ops-secret' });
  }, 90_000);

  afterAll(async () => {
    await ops?.endAsync();
    await agent?.cleanup();
    await sshd?.stop();
    if (tmp) await removeTempDir(tmp);
  });

  const runNow = (job: string) =>
    ops.publishAsync('outpost/edge/cmd/run_backup', JSON.stringify({ target: job }), { qos: 1 });

  it('runs rsync on the host and takes the size from its --stats', async () => {
    await runNow('photos');
    const s = await eventually(async () => {
      const st = await jobState(url, 'photos');
      expect(st?.status).toBe('ok');
      return st!;
    });
    expect(s).toMatchObject({ host: 'nas', exit_code: 0, size: 3345 });
    expect(await readFile(join(tmp, 'out', 'dst', 'sub', 'b.txt'), 'utf8')).toBe('y'.repeat(2345));
    const [ok] = (await backupEvents(join(agent.dir, 'data'))).filter(
      (e) => e.subject === 'nas/photos',
    );
    // The wrapper's process-group line is the agent's, not the tool's output.
    expect(ok!.data.stdout_tail).toMatch(/^\nNumber of files: /);
  });

  it('kills the remote process group when a job runs past its timeout', async () => {
    await runNow('stuck');
    await eventually(() => expect(existsSync(join(tmp, 'pids', 'child'))).toBe(true));
    const leader = Number(await readFile(join(tmp, 'pids', 'leader'), 'utf8'));
    const child = Number(await readFile(join(tmp, 'pids', 'child'), 'utf8'));
    expect(notRunning(leader)).toBe(false);
    await eventually(async () => expect((await jobState(url, 'stuck'))?.status).toBe('failed'));
    await eventually(() => {
      expect(notRunning(leader)).toBe(true);
      expect(notRunning(child)).toBe(true);
    });
    const [failed] = (await backupEvents(join(agent.dir, 'data'))).filter(
      (e) => e.subject === 'nas/stuck',
    );
    expect(failed!.data).toMatchObject({
      reason: 'timed out after 2 s and was killed',
      timed_out: true,
    });
  });

  it('watches a directory on the host: the newest file under it is the last success', async () => {
    expect((await jobState(url, 'snaps'))?.message).toMatch(/no file under/);
    await mkdir(join(tmp, 'snaps', 'daily'));
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000);
    await writeFile(join(tmp, 'snaps', 'daily', 'snap.tar'), 'z');
    await utimes(join(tmp, 'snaps', 'daily', 'snap.tar'), at, at);
    await eventually(async () =>
      expect(await jobState(url, 'snaps')).toMatchObject({
        status: 'ok',
        last_success: at.toISOString(),
      }),
    );
  });
});
