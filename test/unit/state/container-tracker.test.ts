import { describe, expect, it } from 'vitest';
import type {
  ContainerCollectorOutput,
  ContainerObservation,
} from '../../../src/collectors/containers/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import {
  ContainerTracker,
  type ContainerTrackerOptions,
} from '../../../src/state/container-tracker.js';
import {
  containerStatePayload,
  hostAvailability,
  hostStatePayload,
  type ContainerView,
  type HostView,
} from '../../../src/state/container-view.js';
import type { ContainerEvent } from '../../../src/state/events.js';
import { Incidents } from '../../../src/state/incidents.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-22T00:00:00Z');

function obs(name: string, over: Partial<ContainerObservation> = {}): ContainerObservation {
  return {
    host: 'nas',
    key: name,
    id: name.padEnd(12, '0').replace(/[^0-9a-f]/g, 'a'),
    name,
    image: `img/${name}`,
    state: 'running',
    health: 'none',
    exitCode: null,
    restartCount: 0,
    startedAt: '2026-11-21T00:00:00Z',
    finishedAt: null,
    uptimeMs: 1000,
    oomKilled: false,
    error: null,
    labels: {},
    critical: true,
    observedAt: T0,
    ...over,
  };
}

const down = (name: string, over: Partial<ContainerObservation> = {}) =>
  obs(name, { state: 'exited', exitCode: 137, finishedAt: null, uptimeMs: null, ...over });

function setup(
  over: Partial<ContainerTrackerOptions> = {},
  clock = new ManualClock(T0),
  incidents = new Incidents(),
) {
  const events: ContainerEvent[] = [];
  const containers: [string, string, ContainerView | undefined][] = [];
  const hosts: [string, HostView | undefined][] = [];
  const tracker = new ContainerTracker({
    clock,
    log: silentLogger(),
    downAfterMs: 5 * MIN,
    cooldownMs: 30 * MIN,
    stableAfterMs: 2 * MIN,
    removedGraceMs: 60 * MIN,
    incidents,
    onEvent: (e) => events.push(e),
    onContainer: (h, k, v) => containers.push([h, k, v]),
    onHost: (h, v) => hosts.push([h, v]),
    ...over,
  });
  const snapshot = (list: ContainerObservation[], host = 'nas') =>
    tracker.apply({ kind: 'snapshot', host, containers: list, at: clock.now() });
  const change = (o: ContainerObservation) =>
    tracker.apply({
      kind: 'container',
      host: o.host,
      container: o,
      cause: { action: 'die', timeNano: 0, receivedAt: 0 },
    });
  const hostStatus = (status: 'ok' | 'degraded' | 'unreachable', message?: string) =>
    tracker.apply({
      kind: 'host',
      host: 'nas',
      status,
      ...(message ? { message } : {}),
      at: clock.now(),
    });
  const removed = (id: string) =>
    tracker.apply({
      kind: 'removed',
      host: 'nas',
      id,
      cause: { action: 'destroy', timeNano: 0, receivedAt: 0 },
    });
  return {
    clock,
    incidents,
    events,
    containers,
    hosts,
    tracker,
    snapshot,
    change,
    hostStatus,
    removed,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

const summary = (events: ContainerEvent[]) => events.map((e) => `${e.type} ${e.subject}`);

describe('ContainerTracker', () => {
  it('emits container_down only after down_after and container_recovered at once', () => {
    const { clock, events, snapshot, change, tracker } = setup();
    snapshot([obs('db'), obs('web', { critical: false })]);
    change(down('db'));
    clock.advance(4 * MIN);
    expect(events).toEqual([]);
    expect(tracker.hostView('nas')!.criticalDown).toEqual([]);
    clock.advance(1 * MIN);
    expect(summary(events)).toEqual(['container_down nas/db']);
    expect(events[0]).toMatchObject({
      severity: 'critical',
      ts: T0 + 5 * MIN,
      data: {
        host: 'nas',
        key: 'db',
        name: 'db',
        state: 'exited',
        exit_code: 137,
        from: 'ok',
        to: 'down',
        condition_for_s: 300,
      },
    });
    expect(tracker.hostView('nas')!.criticalDown).toEqual(['db']);
    change(obs('db'));
    expect(summary(events)).toEqual(['container_down nas/db', 'container_recovered nas/db']);
    expect(events[1]).toMatchObject({ severity: 'info', data: { alert_open_s: 0, to: 'ok' } });
  });

  it('never alerts for non-critical containers, but tracks their state', () => {
    const { clock, events, snapshot, tracker } = setup();
    snapshot([
      down('web', { critical: false }),
      obs('api', { critical: false, health: 'unhealthy' }),
    ]);
    clock.advance(60 * MIN);
    expect(events).toEqual([]);
    expect(tracker.hostView('nas')!.totals).toEqual({
      total: 2,
      running: 1,
      stopped: 1,
      unhealthy: 1,
    });
  });

  it('dates a stopped container back to its finish time', () => {
    const { events, snapshot } = setup();
    snapshot([down('db', { finishedAt: new Date(T0 - 10 * MIN).toISOString() })]);
    expect(summary(events)).toEqual(['container_down nas/db']);
    expect(events[0]!.data.condition_for_s).toBe(600);
  });

  it('says in words what happened and names the incident on every event of it', () => {
    const { clock, events, snapshot, change, incidents } = setup();
    snapshot([obs('db', { restartCount: 2 })]);
    change(down('db', { restartCount: 2, finishedAt: iso(T0) }));
    clock.advance(6 * MIN);
    expect(events[0]!.data).toMatchObject({
      title: 'nas/db is down',
      message: 'nas/db has been down for 5 min: exited (137)',
      incident: { opened_at: iso(T0 + 5 * MIN), status: 'open', alerts: 1, open_s: 0 },
    });
    const id = (events[0]!.data.incident as { id: string }).id;
    expect(incidents.get('container', 'nas/db')).toMatchObject({
      id,
      severity: 'critical',
      target: 'nas/db',
    });
    change(obs('db', { startedAt: iso(clock.now()), restartCount: 3 }));
    clock.advance(2 * MIN);
    expect(events[1]!.data).toMatchObject({
      title: 'nas/db recovered',
      message: 'nas/db is up again after 8 min: running for 2 min, 1 restart in 8 min',
      incident: { id, status: 'closed', alerts: 1, open_s: 180 },
    });
    expect(incidents.size).toBe(0);
  });

  it('a crash loop is one incident: opened after down_after, re-alerted per cooldown, closed once it stays up', () => {
    const { clock, events, change, snapshot, tracker } = setup();
    snapshot([obs('db')]);
    const criticalDown: boolean[] = [];
    // Exits after 10 s, restarted by the engine 20 s later, for 40 min.
    for (let i = 0; i < 80; i++) {
      change(down('db', { exitCode: 1, restartCount: i, finishedAt: iso(clock.now()) }));
      clock.advance(20_000);
      change(obs('db', { startedAt: iso(clock.now()), restartCount: i + 1 }));
      clock.advance(10_000);
      criticalDown.push(tracker.hostView('nas')!.criticalDown.includes('db'));
    }
    expect(summary(events)).toEqual(['container_down nas/db', 'container_down nas/db']);
    expect(events.map((e) => e.ts)).toEqual([T0 + 5 * MIN, T0 + 35 * MIN]);
    const [first, again] = events.map((e) => e.data);
    expect(first!.message).toMatch(
      /^nas\/db has been down for 5 min: (exited \(1\)|running again for only \d+ s), 10 restarts in 5 min$/,
    );
    expect(again).toMatchObject({ repeat: true, title: 'nas/db is still down' });
    expect(again!.message).toMatch(
      /^nas\/db is still down after 35 min: .*, 70 restarts in 35 min$/,
    );
    expect(again!.incident).toMatchObject({
      id: (first!.incident as { id: string }).id,
      alerts: 2,
      open_s: 30 * 60,
    });
    // Critical down from the first alert (the 10th round) on, without a gap.
    expect(criticalDown.indexOf(true)).toBe(9);
    expect(criticalDown.slice(9).every(Boolean)).toBe(true);
    // It stays up: closed after stable_after, not before.
    clock.advance(110_000 - 10_000);
    expect(events).toHaveLength(2);
    clock.advance(10_000);
    expect(summary(events).at(-1)).toBe('container_recovered nas/db');
    expect(tracker.hostView('nas')!.criticalDown).toEqual([]);
  });

  it('sees a crash loop between two polls: a new start each time is not staying up', () => {
    const { clock, events, snapshot } = setup();
    snapshot([obs('db')]);
    for (let i = 1; i <= 12; i++) {
      clock.advance(30_000);
      // Every poll finds it running, but started again since the last one.
      snapshot([obs('db', { startedAt: iso(clock.now() - 5_000), restartCount: i })]);
    }
    expect(summary(events)).toEqual(['container_down nas/db']);
    expect(events[0]!.data.message).toMatch(/running again for only \d+ s, \d+ restarts in 5 min$/);
  });

  it('a critical container created but never started is not down; once it has run, it is', () => {
    const { clock, events, snapshot, tracker } = setup();
    snapshot([obs('db', { state: 'created', startedAt: null, uptimeMs: null })]);
    clock.advance(60 * MIN);
    expect(events).toEqual([]);
    expect(tracker.hostView('nas')!.criticalDown).toEqual([]);
    // podman reports a stopped container it re-initialised as created, with a start time.
    snapshot([obs('db', { state: 'created', finishedAt: iso(clock.now()), uptimeMs: null })]);
    clock.advance(5 * MIN);
    expect(summary(events)).toEqual(['container_down nas/db']);
  });

  it('a container removed while down and re-created within the grace: the same incident closes', () => {
    const { clock, events, snapshot, removed, tracker } = setup();
    const old = down('web', { id: 'aaaaaaaaaaaa' });
    snapshot([old]);
    clock.advance(5 * MIN);
    removed(old.id);
    expect(tracker.hostView('nas')!.criticalDown).toEqual(['web']);
    clock.advance(30 * MIN);
    const fresh = iso(clock.now());
    snapshot([obs('web', { id: 'bbbbbbbbbbbb', startedAt: fresh })]);
    clock.advance(2 * MIN);
    expect(summary(events)).toEqual(['container_down nas/web', 'container_recovered nas/web']);
    const ids = events.map((e) => (e.data.incident as { id: string }).id);
    expect(ids[1]).toBe(ids[0]);
  });

  it('a container removed while down and not back within the grace: its incident closes', () => {
    const { clock, events, snapshot, removed, tracker, incidents } = setup();
    const old = down('web', { id: 'aaaaaaaaaaaa' });
    snapshot([old]);
    clock.advance(5 * MIN);
    removed(old.id);
    clock.advance(60 * MIN);
    expect(summary(events)).toEqual(['container_down nas/web', 'container_recovered nas/web']);
    expect(events[1]!.data).toMatchObject({
      reason: 'removed',
      title: 'nas/web was removed',
      message:
        'nas/web was removed 1 h ago while down and has not come back: its incident is closed',
      incident: { status: 'closed' },
    });
    expect(tracker.hostView('nas')!.criticalDown).toEqual([]);
    expect(incidents.size).toBe(0);
    // Re-created later and running: nothing is open, nothing to say.
    snapshot([obs('web', { id: 'bbbbbbbbbbbb', startedAt: iso(clock.now()) })]);
    clock.advance(10 * MIN);
    expect(events).toHaveLength(2);
  });

  it('a container that stops being critical closes its incident', () => {
    const { clock, events, snapshot } = setup();
    snapshot([down('web')]);
    clock.advance(5 * MIN);
    snapshot([down('web', { critical: false })]);
    expect(summary(events)).toEqual(['container_down nas/web', 'container_recovered nas/web']);
    expect(events[1]!.data).toMatchObject({ reason: 'not_critical' });
  });

  it('after a restart, an open incident is neither raised again nor forgotten', () => {
    const incidents = new Incidents();
    const clock = new ManualClock(T0);
    const before = setup({}, clock, incidents);
    before.snapshot([down('db', { finishedAt: iso(T0) })]);
    clock.advance(10 * MIN);
    expect(summary(before.events)).toEqual(['container_down nas/db']);
    before.tracker.stop();
    // The agent restarts: a new tracker over the same (persisted) incidents.
    clock.advance(3 * MIN);
    const after = setup({}, clock, incidents);
    expect(after.tracker.hostView('nas')).toBeUndefined();
    after.hostStatus('ok');
    expect(after.tracker.hostView('nas')!.criticalDown).toEqual(['db']);
    after.snapshot([down('db', { finishedAt: iso(T0) })]);
    clock.advance(20 * MIN);
    expect(after.events).toEqual([]);
    // The cooldown counts from the alert before the restart: again at 5 + 30 min.
    clock.advance(2 * MIN);
    expect(summary(after.events)).toEqual(['container_down nas/db']);
    expect(after.events[0]!.ts).toBe(T0 + 35 * MIN);
    const id = (before.events[0]!.data.incident as { id: string }).id;
    expect(after.events[0]!.data.incident).toMatchObject({ id, alerts: 2 });
    after.change(obs('db', { startedAt: iso(clock.now()) }));
    clock.advance(2 * MIN);
    expect(after.events.at(-1)!.data.incident).toMatchObject({ id, status: 'closed' });
  });

  it('after a restart, an open incident of a container that is gone waits out the grace', () => {
    const incidents = new Incidents();
    const clock = new ManualClock(T0);
    const before = setup({}, clock, incidents);
    before.snapshot([down('db')]);
    clock.advance(5 * MIN);
    before.tracker.stop();
    const after = setup({}, clock, incidents);
    after.snapshot([obs('web')]);
    expect(after.tracker.hostView('nas')!.criticalDown).toEqual(['db']);
    clock.advance(60 * MIN);
    expect(summary(after.events)).toEqual(['container_recovered nas/db']);
    expect(after.tracker.hostView('nas')!.criticalDown).toEqual([]);
  });

  it('after a restart, a host announced unreachable is not announced again', () => {
    const incidents = new Incidents();
    const before = setup({}, new ManualClock(T0), incidents);
    before.hostStatus('unreachable', 'refused');
    const after = setup({}, new ManualClock(T0 + MIN), incidents);
    after.hostStatus('unreachable', 'refused');
    expect(after.events).toEqual([]);
    after.hostStatus('ok');
    expect(summary(after.events)).toEqual(['host_reachable nas']);
  });

  it('emits container_unhealthy at once and recovery when healthy for stable_after', () => {
    const { clock, events, change, snapshot } = setup();
    snapshot([obs('db', { health: 'healthy' })]);
    change(obs('db', { health: 'unhealthy' }));
    change(obs('db', { health: 'healthy' }));
    expect(summary(events)).toEqual(['container_unhealthy nas/db']);
    // Healthy for stable_after: closed.
    clock.advance(2 * MIN);
    expect(summary(events)).toEqual(['container_unhealthy nas/db', 'container_recovered nas/db']);
    expect(events[0]!.severity).toBe('warning');
  });

  it('drops a container that disappears, with its pending alert, and says so', () => {
    const { clock, events, containers, change, snapshot, tracker } = setup();
    snapshot([obs('db'), obs('web')]);
    change(down('db'));
    snapshot([obs('web')]);
    clock.advance(10 * MIN);
    expect(events).toEqual([]);
    expect(containers.at(-1)).toEqual(['nas', 'db', undefined]);
    expect(tracker.containerViews('nas').map((v) => v.observation.key)).toEqual(['web']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('removes by id only the container that still holds that id', () => {
    const { tracker, snapshot, containers } = setup();
    const old = obs('db', { id: 'aaaaaaaaaaaa' });
    const fresh = obs('db', { id: 'bbbbbbbbbbbb' });
    snapshot([fresh]);
    tracker.apply({
      kind: 'removed',
      host: 'nas',
      id: old.id,
      cause: { action: 'destroy', timeNano: 0, receivedAt: 0 },
    });
    expect(tracker.containerViews('nas')).toHaveLength(1);
    tracker.apply({
      kind: 'removed',
      host: 'nas',
      id: fresh.id,
      cause: { action: 'destroy', timeNano: 0, receivedAt: 0 },
    });
    expect(tracker.containerViews('nas')).toHaveLength(0);
    expect(containers.at(-1)).toEqual(['nas', 'db', undefined]);
  });

  it('ignores a late event about the old container of a re-created service', () => {
    const { tracker, snapshot, change, events, clock } = setup();
    snapshot([obs('db', { id: 'bbbbbbbbbbbb' })]);
    change(down('db', { id: 'aaaaaaaaaaaa' }));
    clock.advance(10 * MIN);
    expect(tracker.containerViews('nas')[0]!.observation.id).toBe('bbbbbbbbbbbb');
    expect(events).toEqual([]);
  });

  it('publishes a container state only when it changes', () => {
    const { containers, snapshot } = setup();
    snapshot([obs('db')]);
    snapshot([obs('db', { uptimeMs: 99_999, observedAt: T0 + 1 })]);
    expect(containers).toHaveLength(1);
    snapshot([obs('db', { restartCount: 1 })]);
    expect(containers).toHaveLength(2);
    expect(containerStatePayload(containers[1]![2]!)).toEqual({
      name: 'db',
      state: 'running',
      health: 'none',
      exit_code: null,
      restart_count: 1,
      started_at: '2026-11-21T00:00:00Z',
      finished_at: null,
      image: 'img/db',
      oom_killed: false,
      critical: true,
      alert: 'ok',
    });
  });

  it('keeps the labels it already holds when a poll brings equal ones', () => {
    const { tracker, snapshot } = setup();
    const first = { 'com.docker.compose.service': 'db' };
    snapshot([obs('db', { labels: first })]);
    snapshot([obs('db', { labels: { 'com.docker.compose.service': 'db' }, uptimeMs: 5_000 })]);
    const [kept] = tracker.containerViews('nas');
    expect(kept!.observation.labels).toBe(first);
    expect(kept!.observation.uptimeMs).toBe(5_000);
    const changed = { 'com.docker.compose.service': 'db', 'outpost.critical': 'true' };
    snapshot([obs('db', { labels: changed })]);
    expect(tracker.containerViews('nas')[0]!.observation.labels).toBe(changed);
  });

  it('publishes the alert in the container state when it opens and closes', () => {
    const { clock, containers, change, snapshot } = setup();
    snapshot([obs('db')]);
    change(down('db'));
    clock.advance(5 * MIN);
    change(obs('db'));
    expect(containers.map(([, , v]) => `${v!.observation.state}/${v!.alert}`)).toEqual([
      'running/ok',
      'exited/ok',
      'exited/down',
      'running/ok',
    ]);
  });

  it('emits host_unreachable and host_reachable on reachability changes only', () => {
    const { events, hostStatus, hosts, tracker } = setup();
    hostStatus('ok');
    hostStatus('degraded', 'nas: docker inspect: output is not valid JSON');
    hostStatus('unreachable', 'nas (ssh 127.0.0.1:22): connection lost');
    hostStatus('ok');
    expect(summary(events)).toEqual(['host_unreachable nas', 'host_reachable nas']);
    expect(events[0]!.data).toMatchObject({
      status: 'degraded',
      previous: 'ok',
      reason: 'nas: docker inspect: output is not valid JSON',
      title: 'nas is degraded',
      message:
        'outpost cannot see the containers on nas (degraded): nas: docker inspect: output is not valid JSON',
      incident: { status: 'open', alerts: 1 },
    });
    const id = (events[0]!.data.incident as { id: string }).id;
    expect(events[1]!.data).toMatchObject({
      title: 'nas is reachable again',
      incident: { id, status: 'closed' },
    });
    const view = tracker.hostView('nas')!;
    expect(hostAvailability(view)).toBe('online');
    expect(hosts.map(([, v]) => v!.status)).toEqual(['ok', 'degraded', 'unreachable', 'ok']);
  });

  it('reports a host that is unreachable from the start', () => {
    const { events, hostStatus } = setup();
    hostStatus('unreachable', 'refused');
    expect(summary(events)).toEqual(['host_unreachable nas']);
  });

  it('summarises a host for its state object', () => {
    const { clock, snapshot, tracker, hostStatus } = setup();
    hostStatus('ok');
    snapshot([obs('db'), down('web'), obs('api', { health: 'unhealthy', critical: false })]);
    clock.advance(5 * MIN);
    expect(hostStatePayload(tracker.hostView('nas')!)).toEqual({
      status: 'ok',
      message: null,
      engine: null,
      containers: 3,
      running: 2,
      stopped: 1,
      unhealthy: 1,
      critical_down: true,
      critical_down_list: ['web'],
    });
  });

  it('builds the health API report, with unknown for an unreachable host', () => {
    const { tracker, hostStatus, snapshot } = setup();
    hostStatus('ok');
    snapshot([
      obs('db'),
      down('web', { finishedAt: '2026-11-21T23:00:00Z' }),
      obs('api', { health: 'unhealthy' }),
    ]);
    tracker.apply({ kind: 'host', host: 'pi', status: 'unreachable', message: 'timeout', at: T0 });
    tracker.apply({ kind: 'snapshot', host: 'pi', containers: [obs('z', { host: 'pi' })], at: T0 });
    const report = tracker.servicesReport();
    expect(report.timestamp).toBe('2026-11-22T00:00:00.000Z');
    expect(report.summary).toEqual({ total: 4, ok: 1, down: 2, unknown: 1 });
    expect(report.services.map((s) => [s.host, s.name, s.status, s.message])).toEqual([
      ['nas', 'db', 'ok', 'running'],
      ['nas', 'web', 'down', 'exited (exit code 137) since 2026-11-21T23:00:00Z'],
      ['nas', 'api', 'down', 'running, unhealthy'],
      ['pi', 'z', 'unknown', 'host unreachable: last seen running'],
    ]);
    expect(report.hosts).toEqual([
      { host: 'nas', status: 'ok', message: null },
      { host: 'pi', status: 'unreachable', message: 'timeout' },
    ]);
  });

  it('forgets a whole host', () => {
    const { tracker, snapshot, change, clock, events, hosts } = setup();
    snapshot([obs('db')]);
    change(down('db'));
    tracker.forgetHost('nas');
    clock.advance(10 * MIN);
    expect(events).toEqual([]);
    expect(tracker.hostViews()).toEqual([]);
    expect(hosts.at(-1)).toEqual(['nas', undefined]);
  });

  it('keeps going when a listener throws', () => {
    const clock = new ManualClock(T0);
    const seen: string[] = [];
    const tracker = new ContainerTracker({
      clock,
      log: silentLogger(),
      downAfterMs: 0,
      cooldownMs: 0,
      onEvent: (e) => {
        seen.push(e.type);
        throw new Error('listener bug');
      },
    });
    const outputs: ContainerCollectorOutput[] = [
      { kind: 'snapshot', host: 'nas', containers: [down('a'), down('b')], at: T0 },
    ];
    expect(() => outputs.forEach((o) => tracker.apply(o))).not.toThrow();
    expect(seen).toEqual(['container_down', 'container_down']);
  });
});
