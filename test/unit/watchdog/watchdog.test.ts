import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../../src/collectors/watchdog/probes.js';
import {
  Watchdog,
  type WatchdogOptions,
  type WatchdogState,
} from '../../../src/capabilities/watchdog/watchdog.js';
import type { WatchdogCheck } from '../../../src/collectors/watchdog/checks.js';
import { Incidents } from '../../../src/state/incidents.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const T0 = Date.UTC(2026, 0, 1);
const INTERVAL = 30_000;
const TOPIC = 'outpost/edge/watchdog';

/** A check whose next results the test sets: `up` flips it, `hang` never answers. */
class FakeCheck implements WatchdogCheck {
  up = true;
  hang = false;
  calls = 0;
  aborted = 0;
  readonly class: 'local' | 'uplink';
  readonly failAfter: number;
  readonly timeoutMs = 5000;
  readonly id: string;

  constructor(id: string, cls: 'local' | 'uplink' = 'local', failAfter = 2) {
    this.id = id;
    this.class = cls;
    this.failAfter = failAfter;
  }

  readonly probe = (signal: AbortSignal): Promise<ProbeResult> => {
    this.calls++;
    if (this.hang) {
      return new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          this.aborted++;
          resolve({ ok: false, message: 'aborted' });
        }),
      );
    }
    return Promise.resolve(
      this.up ? { ok: true, message: 'connected' } : { ok: false, message: 'ECONNREFUSED' },
    );
  };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(
  checks: FakeCheck[],
  devicePath?: string,
  incidents?: Incidents,
  clock = new ManualClock(T0),
  extra: Partial<WatchdogOptions> = {},
) {
  const events: NewEvent[] = [];
  const states: WatchdogState[] = [];
  const uplink: boolean[] = [];
  const wd = new Watchdog({
    checks,
    intervalMs: INTERVAL,
    devicePath,
    states: {
      set: (topic, value) => {
        expect(topic).toBe(TOPIC);
        states.push(value as WatchdogState);
        return Promise.resolve();
      },
    },
    stateTopic: TOPIC,
    record: (e) => events.push(e),
    uplinkChanged: (up) => uplink.push(up),
    ...(incidents ? { incidents } : {}),
    clock,
    log: silentLogger(),
    ...extra,
  });
  cleanup.push(() => wd.stop());
  await wd.start();
  await wd.idle();
  /** The next round: time moves one interval, the round runs to its end. */
  const next = async () => {
    clock.advance(INTERVAL);
    await wd.idle();
  };
  return { clock, wd, events, states, uplink, next, last: () => states[states.length - 1]! };
}

describe('Watchdog', () => {
  it('runs every check each interval and publishes the state', async () => {
    const sshd = new FakeCheck('sshd');
    const central = new FakeCheck('central', 'uplink');
    const { states, next, last, events } = await setup([sshd, central]);
    expect(states).toHaveLength(1);
    expect(last()).toEqual({
      healthy: true,
      uplink: true,
      checks: {
        sshd: {
          ok: true,
          class: 'local',
          message: 'connected',
          latency_ms: 0,
          failures: 0,
          down: false,
        },
        central: {
          ok: true,
          class: 'uplink',
          message: 'connected',
          latency_ms: 0,
          failures: 0,
          down: false,
        },
      },
      petting: false,
      last_pet: null,
    });
    await next();
    await next();
    expect([sshd.calls, central.calls]).toEqual([3, 3]);
    expect(events).toEqual([]);
  });

  it('counts a check down only after fail_after consecutive failures, and up on one success', async () => {
    const sshd = new FakeCheck('sshd', 'local', 3);
    const { next, last, events } = await setup([sshd]);
    sshd.up = false;
    await next();
    await next();
    expect(last().checks.sshd).toMatchObject({ ok: false, failures: 2, down: false });
    expect(last().healthy).toBe(true);
    expect(events).toEqual([]);
    await next();
    expect(last().checks.sshd).toMatchObject({ ok: false, failures: 3, down: true });
    expect(last().healthy).toBe(false);
    // A flap (one failure between successes) never counts.
    sshd.up = true;
    await next();
    sshd.up = false;
    await next();
    sshd.up = true;
    await next();
    expect(last().healthy).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['watchdog_unhealthy', 'watchdog_recovered']);
  });

  it('records transitions only, with what was down and for how long', async () => {
    const sshd = new FakeCheck('sshd');
    const { next, events } = await setup([sshd]);
    sshd.up = false;
    for (let i = 0; i < 5; i++) await next();
    sshd.up = true;
    await next();
    expect(events).toEqual([
      {
        type: 'watchdog_unhealthy',
        severity: 'critical',
        subject: 'watchdog',
        ts: T0 + 2 * INTERVAL,
        data: {
          down: ['sshd'],
          checks: { sshd: { message: 'ECONNREFUSED', failures: 2 } },
          title: 'Site unhealthy',
          message: 'The site is unhealthy: checks down: sshd (ECONNREFUSED)',
        },
      },
      {
        type: 'watchdog_recovered',
        severity: 'info',
        subject: 'watchdog',
        ts: T0 + 6 * INTERVAL,
        data: {
          down_for_s: 120,
          title: 'Site healthy again',
          message: 'The site is up again after 2 min: every local check passes',
        },
      },
    ]);
  });

  it('keeps healthy (local) and uplink apart: an uplink check gates the uplink only', async () => {
    const sshd = new FakeCheck('sshd');
    const central = new FakeCheck('central', 'uplink');
    const gateway = new FakeCheck('gateway', 'uplink', 1);
    const { next, last, events, uplink } = await setup([sshd, central, gateway]);
    gateway.up = false;
    await next();
    expect(last()).toMatchObject({ healthy: true, uplink: false });
    expect(uplink).toEqual([false]);
    central.up = false;
    await next();
    await next();
    expect(uplink).toEqual([false]); // still down: no second call
    gateway.up = true;
    await next();
    expect(last().uplink).toBe(false); // central is still down
    central.up = true;
    await next();
    expect(last()).toMatchObject({ healthy: true, uplink: true });
    expect(uplink).toEqual([false, true]);
    expect(events.map((e) => [e.type, e.severity, e.subject])).toEqual([
      ['uplink_lost', 'warning', 'uplink'],
      ['uplink_restored', 'info', 'uplink'],
    ]);
    expect(events[0]!.data).toEqual({
      down: ['gateway'],
      checks: { gateway: { message: 'ECONNREFUSED', failures: 1 } },
      title: 'Uplink lost',
      message: 'The uplink is down: checks down: gateway (ECONNREFUSED)',
    });
  });

  it('an outage is one incident, which a restart of the agent neither raises again nor forgets', async () => {
    const incidents = new Incidents();
    const sshd = new FakeCheck('sshd', 'local', 1);
    const gateway = new FakeCheck('gateway', 'uplink', 1);
    sshd.up = false;
    gateway.up = false;
    const first = await setup([sshd, gateway], undefined, incidents);
    await first.next();
    expect(first.events.map((e) => e.type)).toEqual(['watchdog_unhealthy', 'uplink_lost']);
    const id = (first.events[0]!.data!.incident as { id: string }).id;
    expect(first.events[0]!.data!.incident).toMatchObject({ status: 'open', alerts: 1 });
    await first.wd.stop();
    // Restarted, still down: no new alert; the uplink hears again that it is down.
    const again = await setup([sshd, gateway], undefined, incidents, first.clock);
    await again.next();
    expect(again.events).toEqual([]);
    expect(again.uplink).toEqual([false]);
    sshd.up = true;
    await again.next();
    expect(again.events.map((e) => e.type)).toEqual(['watchdog_recovered']);
    // Down since the first run's first round, three intervals ago, restart included.
    expect(again.events[0]!.data).toMatchObject({
      down_for_s: 90,
      incident: { id, status: 'closed' },
    });
    expect(incidents.list().map((i) => i.subject)).toEqual(['uplink']);
  });

  it('is healthy with no local checks and has the uplink up with no uplink checks', async () => {
    const { last } = await setup([]);
    expect(last()).toMatchObject({ healthy: true, uplink: true, checks: {} });
  });

  it('runs the checks at once and fails one at its timeout, aborting it', async () => {
    const slow = new FakeCheck('slow', 'local', 1);
    const fast = new FakeCheck('fast');
    const { clock, wd, next, last } = await setup([slow, fast]);
    slow.hang = true;
    clock.advance(INTERVAL);
    // Both started before either finished.
    expect([slow.calls, fast.calls]).toEqual([2, 2]);
    clock.advance(4999);
    expect(wd.rounds).toBe(1);
    clock.advance(1);
    await wd.idle();
    expect(slow.aborted).toBe(1);
    expect(last().checks.slow).toMatchObject({
      ok: false,
      message: 'timed out after 5000 ms',
      latency_ms: 5000,
      down: true,
    });
    expect(last().healthy).toBe(false);
    // The next round is one interval after the last one started, not after it ended.
    slow.hang = false;
    clock.advance(INTERVAL - 5000);
    await wd.idle();
    expect(slow.calls).toBe(3);
    await next();
    expect(last().healthy).toBe(true);
  });

  it('aborts checks in progress on stop and publishes nothing after', async () => {
    const slow = new FakeCheck('slow');
    const { clock, wd, states } = await setup([slow]);
    slow.hang = true;
    clock.advance(INTERVAL);
    await wd.stop();
    expect(slow.aborted).toBe(1);
    expect(states).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Watchdog device petting', () => {
  async function device(): Promise<string> {
    const dir = await makeTempDir('watchdog-dev');
    cleanup.push(() => removeTempDir(dir));
    const path = join(dir, 'watchdog');
    await writeFile(path, '');
    return path;
  }

  it('writes one byte a round while healthy, none while unhealthy, and V on stop', async () => {
    const path = await device();
    const sshd = new FakeCheck('sshd', 'local', 1);
    const central = new FakeCheck('central', 'uplink', 1);
    const { wd, next, last } = await setup([sshd, central], path);
    expect(await readFile(path, 'utf8')).toBe('.');
    expect(last()).toMatchObject({ petting: true, last_pet: new Date(T0).toISOString() });
    // The uplink being down does not stop the petting: only local checks gate it.
    central.up = false;
    await next();
    expect(await readFile(path, 'utf8')).toBe('..');
    sshd.up = false;
    await next();
    await next();
    expect(await readFile(path, 'utf8')).toBe('..');
    expect(last()).toMatchObject({
      healthy: false,
      petting: false,
      last_pet: new Date(T0 + INTERVAL).toISOString(),
    });
    sshd.up = true;
    await next();
    expect(last()).toMatchObject({
      petting: true,
      last_pet: new Date(T0 + 4 * INTERVAL).toISOString(),
    });
    await wd.stop();
    expect(await readFile(path, 'utf8')).toBe('...V');
  });

  it('keeps checking without petting when the device cannot be opened, and never creates it', async () => {
    const path = join(await device(), '..', 'missing');
    const { last } = await setup([new FakeCheck('sshd')], path);
    expect(last()).toMatchObject({ healthy: true, petting: false, last_pet: null });
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});

describe('grace and max_unhealthy', () => {
  const MIN = 60_000;

  async function device(name = 'watchdog'): Promise<{ dir: string; path: string }> {
    const dir = await makeTempDir('watchdog-grace');
    cleanup.push(() => removeTempDir(dir));
    const path = join(dir, name);
    await writeFile(path, '');
    return { dir, path };
  }

  const opts = { graceMs: 5 * MIN, maxUnhealthyMs: 3 * MIN, node: 'edge', deviceTimeoutMs: MIN };

  it('keeps petting through grace whatever the checks say', async () => {
    const { path } = await device();
    const sshd = new FakeCheck('sshd', 'local', 1);
    sshd.up = false;
    const { next, last, events } = await setup([sshd], path, undefined, undefined, opts);
    // 5 min of grace at one round per 30 s: rounds at 0 … 4.5 min all pet, unhealthy throughout.
    for (let i = 0; i < 9; i++) await next();
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(10));
    expect(last()).toMatchObject({ healthy: false, petting: true });
    // Grace is over and the checks have been down longer than max_unhealthy: it stops now.
    await next();
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(10));
    expect(last()).toMatchObject({ healthy: false, petting: false });
    expect(events.map((e) => e.type)).toEqual(['watchdog_unhealthy', 'watchdog_reset_pending']);
  });

  it('stops only after max_unhealthy, announcing the reset before the first pet left out', async () => {
    const { path } = await device();
    const incidents = new Incidents();
    const sshd = new FakeCheck('sshd', 'local', 1);
    const extra = { ...opts, graceMs: 0 };
    const at: string[] = [];
    const { next, last, events } = await setup([sshd], path, incidents, undefined, extra);
    sshd.up = false;
    // Down at T0+30s; tolerated for 3 min: the rounds at 30 s … 3 min still pet.
    for (let i = 0; i < 6; i++) await next();
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(7));
    expect(last()).toMatchObject({ healthy: false, petting: true });
    expect(events.map((e) => e.type)).toEqual(['watchdog_unhealthy']);
    // The device as it was when the announcement was recorded.
    const record = events.push.bind(events);
    events.push = (...es: NewEvent[]) => {
      at.push(readFileSync(path, 'utf8'));
      return record(...es);
    };
    await next(); // T0 + 3.5 min: down for 3 min
    expect(at).toEqual(['.'.repeat(7)]);
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(7));
    expect(last()).toMatchObject({ petting: false });
    const reset = events.at(-1)!;
    expect(reset).toMatchObject({
      type: 'watchdog_reset_pending',
      severity: 'critical',
      subject: 'watchdog',
      ts: T0 + 7 * INTERVAL,
      data: {
        down: ['sshd'],
        unhealthy_for_s: 180,
        reset_in_s: 30,
        title: 'Watchdog will reset edge',
        message:
          'Watchdog will reset edge in ~30s: local checks down for 3 min: sshd (ECONNREFUSED)',
      },
    });
    // One more alert of the outage's incident, not an incident of its own.
    const opened = events[0]!.data!.incident as { id: string };
    expect(reset.data!.incident).toMatchObject({ id: opened.id, status: 'open', alerts: 2 });
    // Announced once; no pet while it stays down.
    await next();
    await next();
    expect(events.map((e) => e.type)).toEqual(['watchdog_unhealthy', 'watchdog_reset_pending']);
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(7));
    // Back before the hardware acted (a file does not reboot): petting resumes.
    sshd.up = true;
    await next();
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(8));
    expect(events.at(-1)).toMatchObject({
      type: 'watchdog_recovered',
      data: { incident: { id: opened.id, status: 'closed' } },
    });
    expect(incidents.list()).toEqual([]);
  });

  it('never stops petting while only uplink checks fail', async () => {
    const { path } = await device();
    const central = new FakeCheck('central', 'uplink', 1);
    const { next, last, events, uplink } = await setup([central], path, undefined, undefined, {
      ...opts,
      graceMs: 0,
    });
    central.up = false;
    for (let i = 0; i < 20; i++) await next(); // 10 min: far past max_unhealthy
    expect(await readFile(path, 'utf8')).toBe('.'.repeat(21));
    expect(last()).toMatchObject({ healthy: true, uplink: false, petting: true });
    expect(uplink).toEqual([false]);
    expect(events.map((e) => e.type)).toEqual(['uplink_lost']);
  });

  it('writes the magic close on a clean stop after the petting stopped', async () => {
    const { path } = await device();
    const sshd = new FakeCheck('sshd', 'local', 1);
    const { wd, next, last } = await setup([sshd], path, undefined, undefined, {
      ...opts,
      graceMs: 0,
      maxUnhealthyMs: INTERVAL,
    });
    sshd.up = false;
    await next();
    await next();
    expect(last().petting).toBe(false);
    await wd.stop();
    expect(await readFile(path, 'utf8')).toBe('..V');
  });

  it('reads the hardware timeout from sysfs when the config does not give it', async () => {
    const { dir, path } = await device('watchdog1');
    const sys = join(dir, 'sys');
    await mkdir(join(sys, 'watchdog1'), { recursive: true });
    await writeFile(join(sys, 'watchdog1', 'timeout'), '120\n');
    const sshd = new FakeCheck('sshd', 'local', 1);
    const { next, events } = await setup([sshd], path, undefined, undefined, {
      graceMs: 0,
      maxUnhealthyMs: 0,
      node: 'edge',
      sysClassWatchdog: sys,
    });
    sshd.up = false;
    await next();
    expect(events.at(-1)!.data).toMatchObject({
      reset_in_s: 90,
      message: 'Watchdog will reset edge in ~90s: local checks down for 0 s: sshd (ECONNREFUSED)',
    });
  });

  it('says so when the hardware timeout is unknown', async () => {
    const { path } = await device();
    const sshd = new FakeCheck('sshd', 'local', 1);
    const { next, events } = await setup([sshd], path, undefined, undefined, {
      node: 'edge',
      sysClassWatchdog: '/nonexistent',
    });
    sshd.up = false;
    await next();
    expect(events.at(-1)!.data!.message).toBe(
      'Watchdog will reset edge when its hardware timer runs out: local checks down for 0 s: sshd (ECONNREFUSED)',
    );
  });
});
