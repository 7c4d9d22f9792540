import { describe, expect, it } from 'vitest';
import {
  evaluate,
  HysteresisTable,
  newTrack,
  observe,
  type Condition,
  type HysteresisOptions,
  type Transition,
} from '../../../src/state/hysteresis.js';

const MIN = 60_000;
const opts: HysteresisOptions = {
  downAfterMs: 5 * MIN,
  cooldownMs: 30 * MIN,
  stableAfterMs: 2 * MIN,
};

/** Drives one track through [time, condition] observations, ticking at each deadline. */
function run(steps: [number, Condition][], until: number, o = opts): Transition[] {
  const table = new HysteresisTable<string>(o);
  const out: Transition[] = [];
  const tickUntil = (t: number) => {
    for (let d = table.nextDeadline(); d !== undefined && d <= t; d = table.nextDeadline()) {
      out.push(...table.tick(d).map(([, tr]) => tr));
    }
  };
  for (const [at, cond] of steps) {
    tickUntil(at);
    out.push(...table.observe('c', cond, at));
  }
  tickUntil(until);
  return out;
}

const types = (ts: Transition[]) =>
  ts.map((t) => `${t.type}${t.repeat ? ' again' : ''}@${t.at / MIN}`);

describe('hysteresis', () => {
  it('raises down only after down_after, and recovery once ok has lasted stable_after', () => {
    const ts = run(
      [
        [0, 'ok'],
        [1 * MIN, 'down'],
        [10 * MIN, 'ok'],
      ],
      20 * MIN,
    );
    expect(types(ts)).toEqual(['container_down@6', 'container_recovered@12']);
    expect(ts[0]).toMatchObject({ from: 'ok', to: 'down', conditionForMs: 5 * MIN });
    expect(ts[1]).toMatchObject({
      from: 'down',
      to: 'ok',
      conditionForMs: 2 * MIN,
      alertOpenMs: 6 * MIN,
    });
  });

  it('absorbs a dip shorter than down_after (a restart, a redeploy)', () => {
    expect(
      run(
        [
          [0, 'down'],
          [4 * MIN, 'ok'],
          [5 * MIN, 'down'],
          [9 * MIN, 'ok'],
        ],
        60 * MIN,
      ),
    ).toEqual([]);
  });

  it('keeps one alert open while a container comes back for less than stable_after', () => {
    const ts = run(
      [
        [0, 'down'], // alerted at 5
        [6 * MIN, 'ok'], // up for one minute only
        [7 * MIN, 'down'],
        [8 * MIN, 'ok'],
        [9 * MIN, 'down'],
        [20 * MIN, 'ok'], // stays up: recovered at 22
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual(['container_down@5', 'container_recovered@22']);
    expect(ts[1]!.alertOpenMs).toBe(17 * MIN);
  });

  it('raises an open alert again every cooldown, saying how long it has lasted', () => {
    const ts = run([[0, 'down']], 70 * MIN);
    expect(types(ts)).toEqual([
      'container_down@5',
      'container_down again@35',
      'container_down again@65',
    ]);
    expect(ts[1]).toMatchObject({ from: 'down', to: 'down', conditionForMs: 35 * MIN });
    expect(ts[2]).toMatchObject({ alertOpenMs: 60 * MIN, repeat: true });
    expect(run([[0, 'down']], 70 * MIN, { ...opts, cooldownMs: 0 }).map((t) => t.at)).toEqual([
      5 * MIN,
    ]);
  });

  it('alerts a new outage after a recovery without waiting for a cooldown', () => {
    const ts = run(
      [
        [0, 'down'],
        [6 * MIN, 'ok'], // recovered at 8
        [10 * MIN, 'down'],
      ],
      20 * MIN,
    );
    expect(types(ts)).toEqual(['container_down@5', 'container_recovered@8', 'container_down@15']);
  });

  it('alerts unhealthy at once; healthy again closes it after stable_after', () => {
    const ts = run(
      [
        [0, 'ok'],
        [2 * MIN, 'unhealthy'],
        [3 * MIN, 'ok'],
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual(['container_unhealthy@2', 'container_recovered@5']);
    expect(ts[1]).toMatchObject({ from: 'unhealthy', to: 'ok' });
  });

  it('a healthcheck that flips back within stable_after stays one alert', () => {
    const ts = run(
      [
        [0, 'unhealthy'],
        [1 * MIN, 'ok'],
        [2 * MIN, 'unhealthy'],
      ],
      31 * MIN,
    );
    expect(types(ts)).toEqual(['container_unhealthy@0', 'container_unhealthy again@30']);
  });

  it('escalates unhealthy to down after down_after, as a change of the same alert', () => {
    const ts = run(
      [
        [0, 'unhealthy'],
        [1 * MIN, 'down'],
        [20 * MIN, 'unhealthy'],
        [21 * MIN, 'ok'],
      ],
      25 * MIN,
    );
    expect(types(ts)).toEqual([
      'container_unhealthy@0',
      'container_down@6',
      'container_unhealthy@20',
      'container_recovered@23',
    ]);
    expect(ts[1]).toMatchObject({ from: 'unhealthy', to: 'down', alertOpenMs: 6 * MIN });
    expect(ts[2]).toMatchObject({ from: 'down', to: 'unhealthy' });
    expect(ts[3]).toMatchObject({ alertOpenMs: 23 * MIN });
  });

  it('dates a down back to when it started (a container found exited at startup)', () => {
    const step = evaluate(newTrack('down', 100 * MIN, 10 * MIN), 100 * MIN, opts);
    expect(step.transitions.map((t) => [t.type, t.conditionForMs])).toEqual([
      ['container_down', 90 * MIN],
    ]);
    // a start time in the future (clock skew) counts from now
    expect(newTrack('down', 5, 50).since).toBe(5);
  });

  it('keeps the clock of a condition that did not change', () => {
    const t0 = newTrack('down', 0);
    const s1 = observe(t0, 'down', 3 * MIN, opts);
    expect(s1.track.since).toBe(0);
    expect(s1.deadline).toBe(5 * MIN);
    expect(observe(s1.track, 'down', 5 * MIN, opts).transitions).toHaveLength(1);
  });

  it('forgets a key with its pending alert', () => {
    const table = new HysteresisTable<string>(opts);
    table.observe('a', 'down', 0);
    table.observe('b', 'down', 1 * MIN);
    expect(table.nextDeadline()).toBe(5 * MIN);
    table.forget('a');
    expect(table.nextDeadline()).toBe(6 * MIN);
    expect(table.keys()).toEqual(['b']);
    expect(table.tick(6 * MIN).map(([k, t]) => [k, t.type])).toEqual([['b', 'container_down']]);
    expect(table.forget('b')).toMatchObject({ alerted: 'down', alertedAt: 6 * MIN });
    expect(table.size).toBe(0);
    // back with no memory of its alert: a fresh down_after
    expect(table.observe('b', 'down', 7 * MIN)).toEqual([]);
    expect(table.nextDeadline()).toBe(12 * MIN);
  });

  it('resumes a track kept aside: the same alert, closed by its recovery', () => {
    const table = new HysteresisTable<string>(opts);
    table.observe('web', 'down', 0);
    table.tick(5 * MIN);
    const kept = table.forget('web')!;
    expect(table.resume('web', kept, 'down', 6 * MIN)).toEqual([]);
    expect(table.get('web')).toMatchObject({ alerted: 'down', alertedAt: 5 * MIN });
    expect(table.resume('web', kept, 'ok', 9 * MIN, 6 * MIN).map((t) => t.type)).toEqual([
      'container_recovered',
    ]);
  });
});
