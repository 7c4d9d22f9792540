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
const opts: HysteresisOptions = { downAfterMs: 5 * MIN, cooldownMs: 30 * MIN };

/** Drives one track through [time, condition] observations, ticking at each deadline. */
function run(steps: [number, Condition][], until: number): Transition[] {
  const table = new HysteresisTable<string>(opts);
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

const types = (ts: Transition[]) => ts.map((t) => `${t.type}@${t.at / MIN}`);

describe('hysteresis', () => {
  it('raises down only after down_after, and recovery at once', () => {
    const ts = run(
      [
        [0, 'ok'],
        [1 * MIN, 'down'],
        [10 * MIN, 'ok'],
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual(['container_down@6', 'container_recovered@10']);
    expect(ts[0]).toMatchObject({ from: 'ok', to: 'down', conditionForMs: 5 * MIN });
    expect(ts[1]).toMatchObject({
      from: 'down',
      to: 'ok',
      conditionForMs: 0,
      alertOpenMs: 4 * MIN,
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

  it('alerts again only after the cooldown, and then only if still down', () => {
    const ts = run(
      [
        [0, 'down'], // alerted at 5
        [6 * MIN, 'ok'], // recovered at 6
        [7 * MIN, 'down'], // would be due at 12, held until 35 (5 + 30)
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual(['container_down@5', 'container_recovered@6', 'container_down@35']);

    const cleared = run(
      [
        [0, 'down'],
        [6 * MIN, 'ok'],
        [7 * MIN, 'down'],
        [20 * MIN, 'ok'],
      ],
      60 * MIN,
    );
    expect(types(cleared)).toEqual(['container_down@5', 'container_recovered@6']);
  });

  it('does not hold a down back by the cooldown once the cooldown has passed', () => {
    const ts = run(
      [
        [0, 'down'],
        [6 * MIN, 'ok'],
        [40 * MIN, 'down'],
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual(['container_down@5', 'container_recovered@6', 'container_down@45']);
  });

  it('alerts unhealthy at once and its recovery too', () => {
    const ts = run(
      [
        [0, 'ok'],
        [2 * MIN, 'unhealthy'],
        [3 * MIN, 'ok'],
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual(['container_unhealthy@2', 'container_recovered@3']);
    expect(ts[1]).toMatchObject({ from: 'unhealthy', to: 'ok' });
  });

  it('escalates unhealthy to down after down_after, without waiting for the cooldown', () => {
    const ts = run(
      [
        [0, 'unhealthy'],
        [1 * MIN, 'down'],
        [20 * MIN, 'unhealthy'],
        [21 * MIN, 'ok'],
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual([
      'container_unhealthy@0',
      'container_down@6',
      'container_unhealthy@20',
      'container_recovered@21',
    ]);
    expect(ts[1]).toMatchObject({ from: 'unhealthy', to: 'down', alertOpenMs: 6 * MIN });
    expect(ts[2]).toMatchObject({ from: 'down', to: 'unhealthy' });
  });

  it('holds a repeated unhealthy alert for the cooldown', () => {
    const ts = run(
      [
        [0, 'unhealthy'],
        [1 * MIN, 'ok'],
        [2 * MIN, 'unhealthy'],
      ],
      60 * MIN,
    );
    expect(types(ts)).toEqual([
      'container_unhealthy@0',
      'container_recovered@1',
      'container_unhealthy@30',
    ]);
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

  it('forgets a key with its pending alert and cooldown', () => {
    const table = new HysteresisTable<string>(opts);
    table.observe('a', 'down', 0);
    table.observe('b', 'down', 1 * MIN);
    expect(table.nextDeadline()).toBe(5 * MIN);
    table.forget('a');
    expect(table.nextDeadline()).toBe(6 * MIN);
    expect(table.keys()).toEqual(['b']);
    expect(table.tick(6 * MIN).map(([k, t]) => [k, t.type])).toEqual([['b', 'container_down']]);
    table.forget('b');
    expect(table.size).toBe(0);
    // back with no memory of its alert: no cooldown, a fresh down_after
    expect(table.observe('b', 'down', 7 * MIN)).toEqual([]);
    expect(table.nextDeadline()).toBe(12 * MIN);
  });

  it('parks an open alert of a removed subject: a re-created one running closes it', () => {
    const table = new HysteresisTable<string>(opts);
    table.observe('web', 'down', 0);
    expect(table.tick(5 * MIN).map(([, t]) => t.type)).toEqual(['container_down']);
    table.forget('web', 5 * MIN + opts.cooldownMs);
    expect(table.keys()).toEqual([]);
    expect(table.observe('web', 'ok', 6 * MIN).map((t) => t.type)).toEqual(['container_recovered']);
  });

  it('re-created and still down: the same episode, no second container_down', () => {
    const table = new HysteresisTable<string>(opts);
    table.observe('web', 'down', 0);
    table.tick(5 * MIN);
    table.forget('web', 5 * MIN + opts.cooldownMs);
    expect(table.observe('web', 'down', 6 * MIN)).toEqual([]);
    expect(table.tick(60 * MIN)).toEqual([]);
    expect(table.get('web')?.alerted).toBe('down');
  });

  it('lets a parked alert expire, and never parks a pending one', () => {
    const table = new HysteresisTable<string>(opts);
    table.observe('web', 'down', 0);
    table.tick(5 * MIN);
    table.forget('web', 10 * MIN);
    expect(table.observe('web', 'ok', 11 * MIN)).toEqual([]);
    table.observe('db', 'down', 20 * MIN); // pending: down_after not reached
    table.forget('db', 60 * MIN);
    expect(table.observe('db', 'ok', 21 * MIN)).toEqual([]);
  });
});
