import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { IncidentRef } from '../../../src/core/events.js';
import { eventually } from '../../helpers/eventually.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { jobState, script } from './helpers.js';
import { startInProcess, type InProcessAgent } from './in-process-agent.js';

const HOUR = 3_600_000;
/** Noon: the nightly 03:00 run of the first day is long past, the next one far ahead. */
const T0 = Date.parse('2026-12-01T12:00:00Z');

/**
 * The dead-man's switch and catch_up across restarts of the agent (issue #17, point 4),
 * on a clock the test holds: the agent runs, is down for 30 hours, and starts again on
 * the same data dir. Whatever fired or did not while it was down, the start itself finds
 * the late jobs and runs the missed nightly run once.
 */
describe('backups across a restart of the agent', () => {
  let tmp: string;
  let yaml: string;
  const agents: InProcessAgent[] = [];
  const start = async (clock: ManualClock) => {
    const a = await startInProcess(join(tmp, 'data'), yaml, clock);
    agents.push(a);
    return a;
  };
  const runs = async () =>
    (await readFile(join(tmp, 'runs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  beforeAll(async () => {
    tmp = await makeTempDir('backups-restart');
    const nightly = await script(tmp, 'nightly.sh', `echo run >> ${tmp}/runs.log`);
    yaml = `backups:
  jobs:
    - name: nightly
      command: [${nightly}]
      schedule: "0 3 * * *"
      timezone: UTC
      catch_up: true
      max_age: 26h
    - { name: etcd, max_age: 2h }
`;
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    if (tmp) await removeTempDir(tmp);
  });

  it('starts with nothing late and nothing to catch up', async () => {
    const first = await start(new ManualClock(T0));
    expect(first.events).toEqual([]);
    await eventually(async () =>
      expect(await jobState(first.url, 'nightly')).toMatchObject({ status: 'never_run' }),
    );
    expect(await runs()).toEqual([]);
    await first.stop();
  });

  it('30 hours later, finds both jobs late at start and runs the missed nightly once', async () => {
    const later = T0 + 30 * HOUR;
    const second = await start(new ManualClock(later));
    // Raised by the start itself, before any timer of the agent's.
    expect(second.events.slice(0, 2).map((e) => [e.type, e.subject])).toEqual([
      ['backup_late', 'local/nightly'],
      ['backup_late', 'local/etcd'],
    ]);
    expect(second.events[1]!.data).toMatchObject({
      message:
        'local/etcd has not succeeded once in the 1 d 6 h it has been watched (allowed: 2 h)',
      incident: { status: 'open' },
    });
    // The 03:00 run of the second day passed while the agent was down: caught up once.
    await eventually(async () => expect(await runs()).toEqual(['run']));
    await eventually(() =>
      expect(second.events.map((e) => e.type)).toEqual([
        'backup_late',
        'backup_late',
        'backup_succeeded',
      ]),
    );
    const ok = second.events[2]!;
    expect(ok.data).toMatchObject({ trigger: 'catch_up', job: 'nightly' });
    expect((ok.data!.incident as IncidentRef).status).toBe('closed');
    await eventually(async () => {
      expect(await jobState(second.url, 'nightly')).toMatchObject({ status: 'ok', problem: false });
      expect(await jobState(second.url, 'etcd')).toMatchObject({ status: 'late', problem: true });
    });
    await second.stop();
  });

  it('a minute after that, neither catches up again nor re-announces the open late incident', async () => {
    const third = await start(new ManualClock(T0 + 30 * HOUR + 60_000));
    expect(third.events).toEqual([]);
    await eventually(async () =>
      expect(await jobState(third.url, 'etcd')).toMatchObject({ status: 'late', problem: true }),
    );
    expect(await runs()).toEqual(['run']);
    await third.stop();
  });
});
