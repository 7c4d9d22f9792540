import { writeFileSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnEdgeAgent, type AgentProcess } from '../../helpers/agent.js';
import { skipWithout } from '../../helpers/capability.js';
import { eventually } from '../../helpers/eventually.js';
import { cannotMount, mountTmpfs } from '../../helpers/mounts.js';
import { retained } from '../../helpers/mqtt.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { diskEvents, diskState, diskTopics, setFill } from './helpers.js';

/**
 * Issue #16 over SSH: the agent reads a host's disks through the real sshd with its fixed
 * script, one login kept for every poll. The "remote" host is this machine seen through
 * sshd, so its numbers can be checked against statfs here, and a tmpfs the test fills
 * moves its level. Needs root (sshd's test user, mount); in CI it fails rather than skip.
 */
const noMount = skipWithout('a tmpfs mount (disk levels over SSH)', await cannotMount());

const MiB = 1024 * 1024;

describe.skipIf(noMount)('disks of an SSH host, through the agent and the real sshd', () => {
  let sshd: SshdServer;
  let agent: AgentProcess;
  let tmp: string;
  let disk: string;
  let url: string;
  let t: ReturnType<typeof diskTopics>;
  const logins = async () =>
    ((await readFile(sshd.logFile, 'utf8')).match(/Accepted publickey for sshtest/g) ?? []).length;

  beforeAll(async () => {
    sshd = await startSshd();
    tmp = await makeTempDir('disks-ssh');
    // A space in the mount point: the kernel writes it as \040 in the mount table.
    disk = join(tmp, 'my data');
    await mountTmpfs(disk, '4m');
    writeFileSync(join(disk, 'filler'), '');
    t = diskTopics('nas', disk);
    ({ agent, url } = await spawnEdgeAgent(
      () => `hosts:
  - id: nas
    ssh:
      host: ${sshd.host}
      port: ${sshd.port}
      user: ${sshd.user}
      key_file: ${sshd.clientKeyPath}
      host_key: "${sshd.hostKeyFingerprint}"
disks:
  poll_every: 500ms
  include: ["${disk}"]
  warn: 50
  critical: 80
`,
    ));
  }, 60_000);

  afterAll(async () => {
    await agent?.cleanup();
    await sshd?.stop();
    if (tmp) await removeTempDir(tmp);
  });

  it('publishes the remote mount’s numbers as statfs gives them, on the host’s device', async () => {
    const configs = await eventually(async () => {
      const m = await retained(url, 'homeassistant/+/outpost_edge/+/config');
      expect(m.has(t.usedPct)).toBe(true);
      return m;
    });
    expect(JSON.parse(configs.get(t.usedPct)!)).toMatchObject({
      state_topic: t.state,
      device: { identifiers: ['outpost_edge_nas'] },
    });
    setFill(disk, 1 * MiB);
    const s = await eventually(async () => {
      const st = await diskState(url, t.state);
      expect(st?.used).toBeGreaterThanOrEqual(1 * MiB);
      return st!;
    });
    const fs = await statfs(disk);
    expect(s).toMatchObject({
      mount: disk,
      fstype: 'tmpfs',
      size: fs.blocks * fs.bsize,
      used: (fs.blocks - fs.bfree) * fs.bsize,
      free: fs.bavail * fs.bsize,
      level: 'ok',
      error: null,
    });
    expect(s.used_pct).toBeCloseTo(25, 0);
    // df -i's counts, which statfs gives here too (a tmpfs has an inode limit).
    expect(s.inodes_used_pct).toBe(Math.round(((fs.files - fs.ffree) / fs.files) * 1000) / 10);
  });

  it('raises the level of the remote mount, polling over one kept connection', async () => {
    setFill(disk, 2.4 * MiB); // 60 %
    await eventually(async () =>
      expect(await diskState(url, t.state)).toMatchObject({ level: 'warn', problem: true }),
    );
    const events = await eventually(async () => {
      const es = await diskEvents(agent);
      expect(es.map((e) => `${e.type}:${e.severity}`)).toEqual(['disk_pressure:warning']);
      return es;
    });
    expect(events[0]).toMatchObject({
      subject: `nas:${disk}`,
      data: { host: 'nas', mount: disk, level: 'warn' },
    });
    // Every poll so far (one each 500 ms) went over the first login.
    expect(await logins()).toBe(1);
  });
});
