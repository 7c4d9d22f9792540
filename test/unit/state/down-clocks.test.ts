import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { StateFile } from '../../../src/core/state-file.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import {
  DOWN_CLOCKS_FILE,
  DownClocks,
  downClocksFileSchema,
} from '../../../src/state/down-clocks.js';
import type { ContainerEvent } from '../../../src/state/events.js';
import { Incidents } from '../../../src/state/incidents.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const S = 1000;
const iso = (t: number) => new Date(t).toISOString();

/** A crash-looping container as the engine shows it: restarting, last run from `started`. */
const looping = (started: number, finished: number): ContainerObservation => ({
  host: 'local',
  key: 'db',
  id: 'a'.repeat(64),
  name: 'db',
  image: 'img',
  state: 'restarting',
  health: 'none',
  exitCode: 1,
  restartCount: 3,
  startedAt: iso(started),
  finishedAt: iso(finished),
  uptimeMs: null,
  oomKilled: false,
  error: null,
  labels: {},
  critical: true,
  observedAt: finished,
});

describe('down clocks across a restart of the agent', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('down-clocks');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  /** One run of the agent's tracker on the data dir: a new book, new clocks, read from disk. */
  function agentRun(clock: ManualClock, events: ContainerEvent[]) {
    const file = new StateFile(join(dir, DOWN_CLOCKS_FILE), downClocksFileSchema, silentLogger());
    return new ContainerTracker({
      clock,
      log: silentLogger(),
      downAfterMs: 60 * S,
      cooldownMs: 0,
      stableAfterMs: 10 * S,
      incidents: new Incidents(),
      downClocks: new DownClocks(file),
      onEvent: (e) => events.push(e),
    });
  }
  const at = (t: number, o: ContainerObservation) => ({
    kind: 'snapshot' as const,
    host: 'local',
    containers: [o],
    at: t,
  });

  it('alerts down_after from the first crash, not from the last one before the restart', () => {
    const clock = new ManualClock(T0 + 2 * S);
    const events: ContainerEvent[] = [];
    const first = agentRun(clock, events);
    first.apply(at(clock.now(), looping(T0, T0 + S))); // crashed at T0+1s
    clock.advance(30 * S);
    first.stop(); // the agent stops half-way through down_after
    expect(events).toEqual([]);

    // Back 20 s later; the container crashed twice more in between (runs of 1 s).
    clock.advance(20 * S);
    const second = agentRun(clock, events);
    second.apply(at(clock.now(), looping(clock.now() - 3 * S, clock.now() - 2 * S)));
    // Due at T0+1s+60s = 61 s after T0; the clock is at 52 s: 9 s to go, not 60.
    expect(events).toEqual([]);
    clock.advance(9 * S);
    const down = events.filter((e) => e.type === 'container_down');
    expect(down).toHaveLength(1);
    expect(down[0]!.data).toMatchObject({ message: expect.stringMatching(/down for 1 min/) });
    second.stop();
  });

  it('keeps the clock when the agent comes back during a short run of the loop', () => {
    const clock = new ManualClock(T0 + 2 * S);
    const events: ContainerEvent[] = [];
    const first = agentRun(clock, events);
    first.apply(at(clock.now(), looping(T0, T0 + S)));
    first.stop();
    clock.advance(20 * S);
    // Running again for 2 s, and the list gives no restart count: up, were it not for the clock.
    const started = clock.now() - 2 * S;
    const running = {
      ...looping(started - 5 * S, started - S),
      state: 'running' as const,
      exitCode: null,
      restartCount: 0,
      startedAt: iso(started),
    };
    const second = agentRun(clock, events);
    second.apply(at(clock.now(), running));
    clock.advance(3 * S); // and it crashes again before stable_after
    second.apply(at(clock.now(), looping(started, clock.now())));
    clock.advance(35 * S); // at T0 + 60 s: the crash at T0 + 1 s has lasted down_after
    expect(events).toEqual([]);
    clock.advance(1 * S);
    expect(events.map((e) => e.type)).toEqual(['container_down']);
    second.stop();
  });

  it('forgets the clock once the alert is raised or the container is back', () => {
    const clock = new ManualClock(T0 + 2 * S);
    const clocks = () =>
      new StateFile(join(dir, DOWN_CLOCKS_FILE), downClocksFileSchema, silentLogger()).load();
    const events: ContainerEvent[] = [];
    const run = agentRun(clock, events);
    run.apply(at(clock.now(), looping(T0, T0 + S)));
    expect(clocks()).toEqual({ version: 1, since: { 'local/db': T0 + S } });
    clock.advance(60 * S);
    expect(events.map((e) => e.type)).toEqual(['container_down']);
    expect(clocks()).toEqual({ version: 1, since: {} });
    run.stop();
  });

  it('does not carry a clock over an outage that ended while the agent was away', () => {
    const clock = new ManualClock(T0 + 2 * S);
    const events: ContainerEvent[] = [];
    const first = agentRun(clock, events);
    first.apply(at(clock.now(), looping(T0, T0 + S)));
    first.stop();
    // It came back at +5 s, ran for 40 s (past stable_after), and stopped again at +45 s.
    clock.advance(50 * S);
    const second = agentRun(clock, events);
    second.apply(at(clock.now(), looping(T0 + 5 * S, T0 + 45 * S)));
    clock.advance(40 * S);
    expect(events).toEqual([]); // 45 s + 60 s is not yet due
    clock.advance(20 * S);
    expect(events.map((e) => e.type)).toEqual(['container_down']);
    second.stop();
  });
});
