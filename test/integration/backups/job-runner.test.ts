import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupJobConfig } from '../../../src/capabilities/backups/config.js';
import { localHost } from '../../../src/capabilities/backups/job-hosts.js';
import { JobRunner } from '../../../src/capabilities/backups/job-runner.js';
import type { RunResult } from '../../../src/capabilities/backups/run-result.js';
import { BackupTracker } from '../../../src/capabilities/backups/tracker.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Incidents } from '../../../src/state/incidents.js';
import { eventually } from '../../helpers/eventually.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { script } from './helpers.js';

/**
 * Retries with backoff (issue #17, point 1): a real script that fails twice and then
 * succeeds, its waits on a clock the test moves. What the job comes to is told once.
 */
describe('a job with retries', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('backups-retry');
  });
  afterAll(async () => {
    if (tmp) await removeTempDir(tmp);
  });

  it('retries a failed run after its backoff and reports one success with the attempts', async () => {
    const log = join(tmp, 'attempts');
    const flaky = await script(
      tmp,
      'third-time.sh',
      `echo x >> ${log}\n[ "$(wc -l < ${log})" -ge 3 ] || { echo "not yet" >&2; exit 1; }`,
    );
    const clock = new ManualClock(Date.parse('2026-12-06T03:00:00Z'));
    const events: NewEvent[] = [];
    const tracker = new BackupTracker({
      jobs: [{ name: 'db', host: 'local', kind: 'run', maxAgeMs: 3_600_000 }],
      incidents: new Incidents(),
      clock,
      onEvent: (e) => events.push(e),
      onState: () => undefined,
    });
    const job = {
      name: 'db',
      host: 'local',
      command: [flaky],
      timeout: 100 * 3_600_000,
      max_age: 3_600_000,
      retries: 2,
      backoff: { initial: 60_000, max: 600_000 },
      catch_up: false,
    } satisfies BackupJobConfig;
    const runner = new JobRunner({
      job,
      host: localHost({ clock, log: silentLogger(), tailBytes: 1024 }),
      tracker,
      clock,
      log: silentLogger(),
    });
    const t = runner.trigger('run_now');
    expect(t.accepted).toBe(true);
    let result: RunResult | undefined;
    if (t.accepted) void t.done.then((r) => (result = r));
    const attempts = async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean).length;
    for (const n of [1, 2]) {
      await eventually(async () => expect(await attempts()).toBe(n));
      // Still one run: a trigger during the backoff is refused too.
      expect(runner.trigger('run_now').accepted).toBe(false);
      expect(runner.running).toBe(true);
      expect(tracker.state('db')!.status).toBe('running');
      // The backoff waits on the test's clock: moved a minute at a time until it fires.
      await eventually(async () => {
        clock.advance(60_000);
        expect(await attempts()).toBe(n + 1);
      });
    }
    await eventually(() => expect(result?.ok).toBe(true));
    expect(events.map((e) => e.type)).toEqual(['backup_succeeded']);
    expect(events[0]!.data).toMatchObject({ attempts: 3, exit_code: 0 });
    expect(tracker.state('db')!.status).toBe('ok');
  });
});
