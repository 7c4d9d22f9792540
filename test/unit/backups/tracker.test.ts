import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKUPS_FILE, backupsFileSchema } from '../../../src/capabilities/backups/job-record.js';
import {
  BackupTracker,
  type JobState,
  type TrackedJob,
} from '../../../src/capabilities/backups/tracker.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { IncidentRef, NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { StateFile } from '../../../src/core/state-file.js';
import { INCIDENTS_FILE, Incidents, incidentsFileSchema } from '../../../src/state/incidents.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-06T03:00:00Z');
const JOBS: TrackedJob[] = [
  { name: 'db', host: 'nas', kind: 'run', maxAgeMs: 26 * HOUR },
  { name: 'etcd', host: 'local', kind: 'reported', maxAgeMs: 2 * HOUR },
];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A tracker on real files in `dir`: building a second one on the same dir is a restart. */
function agent(dir: string, clock: ManualClock, jobs = JOBS) {
  const log = silentLogger();
  const incidents = new Incidents({
    file: new StateFile(join(dir, INCIDENTS_FILE), incidentsFileSchema, log),
  });
  const events: NewEvent[] = [];
  const states = new Map<string, JobState>();
  const tracker = new BackupTracker({
    jobs,
    incidents,
    clock,
    file: new StateFile(join(dir, BACKUPS_FILE), backupsFileSchema, log),
    onEvent: (e) => events.push(e),
    onState: (job, s) => states.set(job, s),
  });
  return { tracker, events, states, incidents };
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-backups-unit-'));
  dirs.push(d);
  return d;
}

const types = (es: NewEvent[]) => es.map((e) => e.type);
const ref = (e: NewEvent) => e.data?.incident as IncidentRef;

describe('the backup tracker', () => {
  it('never_run, running, ok; a failure opens one incident, the next success closes it', () => {
    const clock = new ManualClock(T0);
    const { tracker, events } = agent(dataDir(), clock);
    expect(tracker.state('db')).toMatchObject({ status: 'never_run', problem: false });
    tracker.started('db', clock.now());
    expect(tracker.state('db')!.status).toBe('running');
    clock.advance(60_000);
    tracker.finished('db', {
      ok: false,
      at: clock.now(),
      exitCode: 3,
      reason: 'exit code 3',
      message: 'pg_dump: no such database',
      via: 'run',
    });
    tracker.finished('db', {
      ok: false,
      at: clock.now(),
      exitCode: 3,
      reason: 'exit code 3',
      via: 'run',
    });
    expect(tracker.state('db')).toMatchObject({ status: 'failed', problem: true, exit_code: 3 });
    clock.advance(60_000);
    tracker.finished('db', {
      ok: true,
      at: clock.now(),
      exitCode: 0,
      durationS: 12,
      size: 4096,
      via: 'run',
    });
    expect(types(events)).toEqual(['backup_failed', 'backup_failed', 'backup_succeeded']);
    expect(events[0]!.data).toMatchObject({
      title: 'Backup nas/db failed',
      message: 'nas/db failed: exit code 3 (pg_dump: no such database)',
      reason: 'exit code 3',
    });
    const id = ref(events[0]!).id;
    expect(events.map((e) => [ref(e).id, ref(e).status, ref(e).alerts])).toEqual([
      [id, 'open', 1],
      [id, 'open', 2],
      [id, 'closed', 2],
    ]);
    expect(tracker.state('db')).toMatchObject({
      status: 'ok',
      problem: false,
      size: 4096,
      duration: 12,
      last_success: new Date(clock.now()).toISOString(),
    });
  });

  it('is late past max_age, caught at the start of a restarted agent, announced once', () => {
    const dir = dataDir();
    const clock = new ManualClock(T0);
    const first = agent(dir, clock);
    first.tracker.finished('db', { ok: true, at: T0, via: 'run' });
    first.tracker.checkLate();
    expect(types(first.events)).toEqual(['backup_succeeded']);

    // The agent is down for 30 h: the next one reads the same files and looks at once.
    clock.advance(30 * HOUR);
    const second = agent(dir, clock);
    expect(second.tracker.state('db')!.status).toBe('ok');
    second.tracker.checkLate();
    expect(types(second.events)).toEqual(['backup_late', 'backup_late']);
    const late = second.events.find((e) => e.subject === 'nas/db')!;
    expect(late.data).toMatchObject({
      title: 'Backup nas/db is late',
      message: 'nas/db last succeeded 1 d 6 h ago (allowed: 1 d 2 h)',
    });
    expect(second.tracker.state('db')).toMatchObject({ status: 'late', problem: true });
    // The reported job never succeeded: late from when it was first watched.
    expect(second.events.find((e) => e.subject === 'local/etcd')!.data).toMatchObject({
      message:
        'local/etcd has not succeeded once in the 1 d 6 h it has been watched (allowed: 2 h)',
    });

    // Another restart: the late incidents are on file, not announced again.
    const third = agent(dir, clock);
    third.tracker.checkLate();
    expect(third.events).toEqual([]);
    expect(third.tracker.state('db')!.status).toBe('late');
    third.tracker.finished('db', { ok: true, at: clock.now(), via: 'run' });
    expect(third.events.map((e) => [e.type, ref(e).status])).toEqual([
      ['backup_succeeded', 'closed'],
    ]);
    expect(third.incidents.list('backup').map((i) => i.subject)).toEqual(['local/etcd']);
  });

  it('takes a passive job’s newest file as its last success; only a recovery is news', () => {
    const clock = new ManualClock(T0);
    const jobs: TrackedJob[] = [{ name: 'snaps', host: 'nas', kind: 'watched', maxAgeMs: HOUR }];
    const { tracker, events } = agent(dataDir(), clock, jobs);
    tracker.observed('snaps', T0 - 10 * 60_000);
    tracker.checkLate();
    expect(tracker.state('snaps')!.status).toBe('ok');
    clock.advance(2 * HOUR);
    tracker.observed('snaps', T0 - 10 * 60_000);
    tracker.checkLate();
    tracker.observed('snaps', clock.now() - 60_000);
    expect(types(events)).toEqual(['backup_late', 'backup_succeeded']);
    expect(tracker.state('snaps')!.status).toBe('ok');
  });

  it('closes the incident of a job taken out of the config', () => {
    const dir = dataDir();
    const clock = new ManualClock(T0);
    agent(dir, clock).tracker.finished('db', { ok: false, at: T0, via: 'run', reason: 'x' });
    const after = agent(dir, clock, [JOBS[1]!]);
    expect(after.incidents.list('backup')).toEqual([]);
  });
});
