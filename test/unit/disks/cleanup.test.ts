import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskCleanupExecutor } from '../../../src/capabilities/disks/cleanup/executor.js';
import { localCleanupHost } from '../../../src/capabilities/disks/cleanup/hosts.js';
import { jobsFor } from '../../../src/capabilities/disks/cleanup/jobs.js';
import { parseConfig } from '../../../src/config/load.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { build, type Built } from '../commands/harness.js';

const START = Date.parse('2026-12-06T10:00:00Z');

describe('cleanup jobs in config', () => {
  const parse = (yaml: string) => parseConfig(yaml, { env: {} });

  it('takes jobs by id as argv, and names the field of a bad one', () => {
    const { config } = parse(`hosts:
  - id: nas
    cleanup:
      docker_images: [docker, image, prune, -af]
      journal: [journalctl, --vacuum-size=200M]
disks: {}
`);
    expect(config.hosts[0]!.cleanup).toEqual({
      docker_images: ['docker', 'image', 'prune', '-af'],
      journal: ['journalctl', '--vacuum-size=200M'],
    });
    expect(() =>
      parse('hosts:\n  - id: nas\n    cleanup: { journal: "journalctl --vacuum" }\n'),
    ).toThrow(
      /hosts\[0\]\.cleanup\.journal: expected a cleanup job as a list of words such as \[journalctl, --vacuum-size=200M\], got "journalctl --vacuum"/,
    );
    expect(() => parse('hosts:\n  - id: nas\n    cleanup: { "bad job": [true] }\n')).toThrow(
      /hosts\[0\]\.cleanup\.bad job: expected cleanup jobs by id \(letters, digits, _ or -\)/,
    );
  });

  it('applies the jobs a mount names, else all of the host’s', () => {
    const jobs = new Map([
      ['images', ['docker', 'image', 'prune', '-af']],
      ['journal', ['journalctl', '--vacuum-size=200M']],
    ]);
    const mounts = [
      { path: '/var/lib/docker', cleanup: ['images'] },
      { path: '/srv/*', warn: 70 },
      { path: '/srv/none', cleanup: [] },
    ];
    expect(jobsFor('/var/lib/docker', jobs, mounts)).toEqual(['images']);
    expect(jobsFor('/', jobs, mounts)).toEqual(['images', 'journal']);
    expect(jobsFor('/srv/x', jobs, mounts)).toEqual(['images', 'journal']);
  });
});

/**
 * `disks.cleanup_on_critical`: remediation hears a mount reach critical and submits a
 * cleanup from self-healing; the policy decides (here: a human must approve).
 */
describe('cleanup offered by self-healing on a critical mount', () => {
  let dir: string;
  let b: Built | undefined;
  beforeEach(async () => {
    dir = await makeTempDir('cleanup-offer');
  });
  afterEach(async () => {
    await b?.rem.stop();
    b = undefined;
    await removeTempDir(dir);
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const start = async (disks: Record<string, unknown>) => {
    const executor = new DiskCleanupExecutor({
      hosts: new Map([
        [
          'nas',
          { jobs: new Map([['logs', ['true']]]), on: localCleanupHost, jobsFor: () => ['logs'] },
        ],
      ]),
      timeoutMs: 10_000,
      mounts: () => undefined,
    });
    b = await build({
      dir,
      clock: new ManualClock(START),
      config: {
        disks,
        policy: [{ action: 'disk_cleanup', target: 'nas', decision: 'approve' }],
        broker: { users: [{ username: 'ha', password: 'pw' }] },
        remediation: { approvers: ['ha'] },
      },
      executors: [executor],
    });
    await b.rem.start();
    return b;
  };
  const pressure = (level: string): NewEvent => ({
    type: 'disk_pressure',
    severity: 'critical',
    subject: `nas:${dir}`,
    data: { host: 'nas', mount: dir, level, used_pct: 96.2 },
  });

  it('submits a cleanup of the mount, held for approval by the policy', async () => {
    const built = await start({ cleanup_on_critical: true });
    built.rem.onTrackerEvent(pressure('warn'));
    await settle();
    expect(built.rem.api.pending()).toEqual([]);
    built.rem.onTrackerEvent(pressure('critical'));
    await settle();
    expect(built.rem.api.pending()).toEqual([
      expect.objectContaining({
        action: 'disk_cleanup',
        target: 'nas',
        origin: 'self_heal',
        requested_by: 'self-heal',
        reason: `nas:${dir} is critical at 96.2 %`,
      }),
    ]);
  });

  it('is off by default', async () => {
    const built = await start({});
    built.rem.onTrackerEvent(pressure('critical'));
    await settle();
    expect(built.rem.api.pending()).toEqual([]);
  });
});
