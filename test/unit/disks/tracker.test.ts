import { describe, expect, it } from 'vitest';
import { DiskTracker, type DiskState } from '../../../src/capabilities/disks/tracker.js';
import type { DiskReading, MountReading } from '../../../src/capabilities/disks/types.js';
import { usedPercent } from '../../../src/capabilities/disks/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { IncidentRef, NewEvent } from '../../../src/core/events.js';
import { Incidents } from '../../../src/state/incidents.js';

const GiB = 1024 ** 3;
const HOUR = 3_600_000;

/** A tracker with a manual clock and a real, in-memory incident book. */
function setup(book = new Incidents()) {
  const clock = new ManualClock(Date.parse('2026-12-06T10:00:00Z'));
  const events: NewEvent[] = [];
  const states = new Map<string, DiskState | undefined>();
  const tracker = new DiskTracker({
    thresholds: () => ({ warn: 85, critical: 95, hysteresis: 2 }),
    windowMs: 6 * HOUR,
    fillWarnMs: 24 * HOUR,
    incidents: book,
    onEvent: (e) => events.push(e),
  });
  const apply = (r: DiskReading) =>
    tracker.apply('nas', r, clock.now(), (m, s) => states.set(m, s));
  return { clock, events, states, tracker, book, apply };
}

/** A 100 GiB disk at `pct` % used. */
function disk(mount: string, pct: number): MountReading {
  const used = (pct / 100) * 100 * GiB;
  const free = 100 * GiB - used;
  return {
    mount,
    fstype: 'ext4',
    usage: { size: 100 * GiB, used, free, usedPct: usedPercent(used, free), inodesUsedPct: 1 },
  };
}
const whole = (...mounts: MountReading[]): DiskReading => ({ complete: true, mounts });
const types = (es: NewEvent[]) => es.map((e) => `${e.type}:${e.severity}`);
const ref = (e: NewEvent) => e.data?.incident as IncidentRef;

describe('the disk tracker', () => {
  it('opens one incident at warn, raises it at critical, and closes it below warn minus the margin', () => {
    const { clock, events, states, book, apply } = setup();
    for (const pct of [50, 86, 84, 96, 94, 93, 84, 83]) {
      apply(whole(disk('/srv', pct)));
      clock.advance(60_000);
    }
    expect(types(events)).toEqual([
      'disk_pressure:warning',
      'disk_pressure:critical',
      'disk_pressure:warning',
      'disk_recovered:info',
    ]);
    const id = ref(events[0]!).id;
    expect(events.map((e) => [ref(e).id, ref(e).status])).toEqual([
      [id, 'open'],
      [id, 'open'],
      [id, 'open'],
      [id, 'closed'],
    ]);
    expect(events[0]).toMatchObject({
      subject: 'nas:/srv',
      data: {
        host: 'nas',
        mount: '/srv',
        level: 'warn',
        used_pct: 86,
        title: 'nas:/srv is 86 % full',
        message: 'nas:/srv is 86.0 % full (warning at 85 %): 14.0 GiB free of 100 GiB',
      },
    });
    expect(events[1]!.data).toMatchObject({ title: 'nas:/srv is 96 % full', level: 'critical' });
    expect(events[2]!.data).toMatchObject({ title: 'nas:/srv is below critical' });
    expect(events[3]!.data).toMatchObject({
      title: 'nas:/srv recovered',
      message: 'nas:/srv is back to 83.0 % full after 6 min: 17.0 GiB free of 100 GiB',
    });
    expect(book.size).toBe(0);
    expect(states.get('/srv')).toMatchObject({ level: 'ok', problem: false, used_pct: 83 });
  });

  it('does not announce again what an earlier run announced', () => {
    const first = setup();
    first.apply(whole(disk('/srv', 96)));
    expect(types(first.events)).toEqual(['disk_pressure:critical']);
    // A new tracker on the same book: the agent restarted.
    const again = setup(first.book);
    again.apply(whole(disk('/srv', 95.5)));
    expect(again.events).toEqual([]);
    expect(again.states.get('/srv')).toMatchObject({ level: 'critical', problem: true });
    again.apply(whole(disk('/srv', 50)));
    expect(types(again.events)).toEqual(['disk_recovered:info']);
    expect(ref(again.events[0]!).id).toBe(ref(first.events[0]!).id);
  });

  it('publishes no number for a mount it could not read, and keeps its level', () => {
    const { events, states, apply } = setup();
    apply(whole(disk('/srv', 90)));
    apply(whole({ mount: '/srv', fstype: 'ext4', error: 'df says 90% but its numbers give 10%' }));
    expect(states.get('/srv')).toMatchObject({
      used_pct: null,
      free: null,
      size: null,
      level: 'warn',
      problem: true,
      error: 'df says 90% but its numbers give 10%',
    });
    apply({ complete: false, error: 'nas (ssh 127.0.0.1:22): not connected' });
    expect(states.get('/srv')).toMatchObject({
      used_pct: null,
      error: expect.stringMatching(/not connected/),
    });
    expect(types(events)).toEqual(['disk_pressure:warning']);
  });

  it('a mount gone from a whole reading is removed and its incident closed; an incomplete one removes nothing', () => {
    const { events, states, tracker, apply } = setup();
    apply(whole(disk('/', 20), disk('/mnt/usb', 90)));
    apply({ complete: false, error: 'truncated' });
    expect(tracker.mounts('nas')).toEqual(['/', '/mnt/usb']);
    apply(whole(disk('/', 20)));
    expect(tracker.mounts('nas')).toEqual(['/']);
    expect(states.has('/mnt/usb') && states.get('/mnt/usb')).toBeUndefined();
    expect(types(events)).toEqual(['disk_pressure:warning', 'disk_recovered:info']);
    expect(events[1]!.data).toMatchObject({ title: 'nas:/mnt/usb is no longer mounted' });
  });

  it('warns when the disk will be full within fill_warn, and clears once it stops growing', () => {
    const { clock, events, states, apply } = setup();
    // 3 GiB an hour on 100 GiB from 40 %: after an hour (a sixth of the window) 19 h are left.
    let pct = 40;
    for (let h = 0; h <= 3; h++, clock.advance(HOUR), pct += 3) apply(whole(disk('/srv', pct)));
    expect(types(events)).toEqual(['disk_filling:warning']);
    expect(events[0]!.data).toMatchObject({
      title: 'nas:/srv will be full in about 19 h',
      growth_bytes_per_hour: 3 * GiB,
    });
    expect(events[0]!.data!.message).toMatch(/^nas:\/srv is growing by 3\.0 GiB\/h: /);
    expect(states.get('/srv')).toMatchObject({ filling: true, problem: true, level: 'ok' });
    // Flat for six hours: the rate falls to nothing and the warning clears.
    pct -= 3;
    for (let h = 0; h < 7; h++, clock.advance(HOUR)) apply(whole(disk('/srv', pct)));
    expect(types(events)).toEqual(['disk_filling:warning', 'disk_recovered:info']);
    expect(states.get('/srv')).toMatchObject({
      filling: false,
      problem: false,
      time_to_full_s: null,
    });
  });
});
