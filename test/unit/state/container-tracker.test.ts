import { describe, expect, it } from 'vitest';
import type {
  ContainerCollectorOutput,
  ContainerObservation,
} from '../../../src/collectors/containers/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import {
  containerStatePayload,
  hostAvailability,
  hostStatePayload,
  type ContainerView,
  type HostView,
} from '../../../src/state/container-view.js';
import type { ContainerEvent } from '../../../src/state/events.js';

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

function setup() {
  const clock = new ManualClock(T0);
  const events: ContainerEvent[] = [];
  const containers: [string, string, ContainerView | undefined][] = [];
  const hosts: [string, HostView | undefined][] = [];
  const tracker = new ContainerTracker({
    clock,
    log: silentLogger(),
    downAfterMs: 5 * MIN,
    cooldownMs: 30 * MIN,
    onEvent: (e) => events.push(e),
    onContainer: (h, k, v) => containers.push([h, k, v]),
    onHost: (h, v) => hosts.push([h, v]),
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
  return { clock, events, containers, hosts, tracker, snapshot, change, hostStatus };
}

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

  it('applies the cooldown to a flapping container', () => {
    const { clock, events, change, snapshot } = setup();
    snapshot([obs('db')]);
    for (let i = 0; i < 4; i++) {
      change(down('db'));
      clock.advance(6 * MIN);
      change(obs('db'));
      clock.advance(1 * MIN);
    }
    expect(summary(events)).toEqual(['container_down nas/db', 'container_recovered nas/db']);
    change(down('db'));
    clock.advance(30 * MIN);
    expect(summary(events).slice(2)).toEqual(['container_down nas/db']);
  });

  it('emits container_unhealthy at once and recovery when healthy again', () => {
    const { events, change, snapshot } = setup();
    snapshot([obs('db', { health: 'healthy' })]);
    change(obs('db', { health: 'unhealthy' }));
    change(obs('db', { health: 'healthy' }));
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
      message: 'nas: docker inspect: output is not valid JSON',
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
