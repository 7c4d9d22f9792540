import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalContainerCollector } from '../../../src/collectors/containers/local-collector.js';
import { ContainerSelector } from '../../../src/collectors/containers/selection.js';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import { Backoff } from '../../../src/core/backoff.js';
import { ManualClock, systemClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { EngineApi } from '../../../src/hosts/engine-api.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import type { ContainerEvent } from '../../../src/state/events.js';
import type { ContainerEngine } from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { about, CuttableProxy, EngineActions, hostIs, OutputRecorder } from './helpers.js';

const execFileAsync = promisify(execFile);
const MIN = 60_000;
const CRITICAL = { 'outpost.critical': 'true' };
/** Events of a container start: docker create, start; podman also init. */
const STARTING = ['create', 'init', 'start'];

/**
 * The local path against a real engine: every transition is seen through the event
 * stream (inspect on each event), and a reconcile after a stream reconnect catches what
 * the stream missed. The same suite runs against dockerd and podman, whose event
 * sequences differ (TESTING.md "The two engines' events differ").
 */
export function describeEngineCollector(name: string, start: () => Promise<ContainerEngine>): void {
  describe(name, () => {
    let engine: ContainerEngine;
    let proxy: CuttableProxy;
    let proxyDir: string;
    let act: EngineActions;
    let collector: LocalContainerCollector;
    let rec: OutputRecorder;
    let hysteresisClock: ManualClock;
    let tracker: ContainerTracker;
    const events: ContainerEvent[] = [];
    let preId: string;

    /** podman runs healthchecks only when told (no systemd timers here). */
    const triggerHealthcheck = async (container: string) => {
      if (engine.kind !== 'podman') return;
      await execFileAsync('podman', ['healthcheck', 'run', container], {
        env: { ...process.env, ...engine.cliEnv },
      }).catch(() => undefined); // exit 1 = unhealthy: that is an answer, not a failure
    };

    /** Waits for an output while re-triggering podman's healthcheck every 300 ms. */
    const healthOf = async (id: string, container: string, health: string) => {
      const p = rec.next(
        about(id, (o) => o.container.health === health),
        `${container} ${health}`,
      );
      let done = false;
      void p.finally(() => (done = true)).catch(() => undefined);
      while (!done && engine.kind === 'podman') {
        await triggerHealthcheck(container);
        await Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
      }
      return p;
    };

    beforeAll(async () => {
      engine = await start();
      act = new EngineActions(engine.socketPath, engine.imageRef);
      preId = await act.run('pre', { labels: CRITICAL });
      proxyDir = await makeTempDir('engine-proxy');
      proxy = await CuttableProxy.start({ path: engine.socketPath }, join(proxyDir, 'engine.sock'));
      rec = new OutputRecorder();
      hysteresisClock = new ManualClock(Date.now());
      tracker = new ContainerTracker({
        clock: hysteresisClock,
        log: silentLogger(),
        downAfterMs: 5 * MIN,
        cooldownMs: 30 * MIN,
        onEvent: (e) => events.push(e),
      });
      collector = new LocalContainerCollector({
        host: 'local',
        api: new EngineApi({
          socketPath: join(proxyDir, 'engine.sock'),
          timeoutMs: 10_000,
          clock: systemClock,
        }),
        selector: new ContainerSelector({ exclude: ['ignored-*'] }),
        clock: systemClock,
        log: silentLogger(),
        sink: (o) => {
          rec.sink(o);
          tracker.apply(o);
        },
        reconcileEveryMs: 10 * MIN,
        backoff: new Backoff({ initialMs: 100, maxMs: 400 }),
      });
      await collector.start();
    }, 120_000);

    afterAll(async () => {
      await collector?.stop();
      tracker?.stop();
      await proxy?.stop();
      if (proxyDir) await removeTempDir(proxyDir);
      await engine?.stop();
    });

    it('reconciles what is already there when it starts', () => {
      const snapshot = rec.outputs.find((o) => o.kind === 'snapshot');
      expect(
        snapshot?.kind === 'snapshot' && snapshot.containers.map((c) => [c.key, c.state]),
      ).toEqual([['pre', 'running']]);
      const host = rec.outputs.find((o) => o.kind === 'host');
      expect(host).toMatchObject({ kind: 'host', status: 'ok' });
      expect(host?.kind === 'host' && host.engine).toMatch(
        engine.kind === 'docker' ? /^docker 20\./ : /^podman 4\./,
      );
      expect(tracker.hostView('local')!.totals).toEqual({
        total: 1,
        running: 1,
        stopped: 0,
        unhealthy: 0,
      });
    });

    it('sees a start through the event stream at once', async () => {
      const id = await act.run('web', { start: false });
      const running = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'web running',
      );
      await act.post(id, 'start');
      const o = await running;
      // The inspect may have been caused by an earlier event of the same start (podman:
      // init), answered once the container was already running.
      expect(STARTING).toContain(o.cause.action);
      expect(o.container).toMatchObject({ name: 'web', key: 'web', image: engine.imageRef });
    });

    it('reports stop, raises container_down only after down_after, recovers at once', async () => {
      const id = await act.run('db', { labels: CRITICAL, start: false });
      const up = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'db running',
      );
      await act.post(id, 'start');
      await up;
      const exited = rec.next(
        about(id, (o) => o.container.state === 'exited'),
        'db exited',
      );
      await act.post(id, 'stop', '?t=1');
      expect((await exited).container).toMatchObject({ critical: true, exitCode: 137 });
      const downs = () =>
        events.filter((e) => e.type === 'container_down' && e.subject === 'local/db');
      hysteresisClock.advance(4 * MIN);
      expect(downs()).toEqual([]);
      hysteresisClock.advance(1 * MIN);
      expect(downs()).toHaveLength(1);
      expect(tracker.hostView('local')!.criticalDown).toContain('db');
      const back = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'db back',
      );
      await act.post(id, 'start');
      await back;
      expect(events.at(-1)).toMatchObject({ type: 'container_recovered', subject: 'local/db' });
      expect(tracker.hostView('local')!.criticalDown).toEqual([]);
    });

    it('reports a kill with exit code 137', async () => {
      const id = await act.run('victim', { start: false });
      const up = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'victim running',
      );
      await act.post(id, 'start');
      await up;
      const dead = rec.next(
        about(id, (o) => o.container.state === 'exited'),
        'victim exited',
      );
      await act.post(id, 'kill');
      expect((await dead).container.exitCode).toBe(137);
    });

    it('reports a container that dies on its own, with its exit code', async () => {
      const id = await act.run('crash', { cmd: ['sh', '-c', 'sleep 1; exit 3'], start: false });
      const died = rec.next(
        about(id, (o) => o.container.state === 'exited'),
        'crash exited',
      );
      await act.post(id, 'start');
      const o = await died;
      expect(o.container.exitCode).toBe(3);
      expect(o.container.finishedAt).not.toBeNull();
    });

    it('follows healthchecks: healthy, unhealthy (an event at once), healthy again', async () => {
      const id = await act.run('hc', {
        cmd: ['sh', '-c', 'touch /tmp/ok; sleep 300'],
        healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ok'], intervalMs: 500, retries: 1 },
        labels: CRITICAL,
      });
      await healthOf(id, 'hc', 'healthy');
      await act.exec(id, ['rm', '/tmp/ok']);
      const sick = await healthOf(id, 'hc', 'unhealthy');
      expect(sick.cause.action).toBe('health_status');
      expect(events.at(-1)).toMatchObject({ type: 'container_unhealthy', subject: 'local/hc' });
      await act.exec(id, ['touch', '/tmp/ok']);
      await healthOf(id, 'hc', 'healthy');
      expect(events.at(-1)).toMatchObject({
        type: 'container_recovered',
        subject: 'local/hc',
        data: { from: 'unhealthy' },
      });
    });

    it('ends a restart in running, with a new start time', async () => {
      const id = await act.run('bounce', { start: false });
      const first = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'bounce running',
      );
      await act.post(id, 'start');
      await first;
      const before = (await act.inspect(id)).State.StartedAt;
      await act.post(id, 'restart', '?t=1');
      const after = (await act.inspect(id)).State.StartedAt;
      expect(after).not.toBe(before);
      // The state read off the start event carries the event's time; the inspect that
      // follows brings the engine's own, and nothing older comes after it.
      await eventually(() =>
        expect(rec.outputs.filter(about(id)).at(-1)!.container).toMatchObject({
          state: 'running',
          startedAt: after,
        }),
      );
    });

    it('counts restarts made by a restart policy', async () => {
      const id = await act.run('flaky', {
        cmd: ['sh', '-c', 'sleep 0.3; exit 1'],
        restart: { name: 'on-failure', max: 2 },
        start: false,
      });
      const restarted = rec.next(
        about(id, (o) => o.container.restartCount >= 1),
        'flaky restart count',
      );
      await act.post(id, 'start');
      expect((await restarted).container.restartCount).toBeGreaterThanOrEqual(1);
    });

    it('drops a removed container and its state', async () => {
      const id = await act.run('doomed', { labels: CRITICAL });
      await rec
        .next(
          about(id, (o) => o.container.state === 'running'),
          'doomed running',
        )
        .catch(() => undefined);
      const removed = rec.next((o) => o.kind === 'removed' && o.id === id, 'doomed removed');
      await act.remove(id);
      const r = await removed;
      expect(r.kind === 'removed' && r.cause.action).toBe(
        engine.kind === 'docker' ? 'destroy' : 'remove',
      );
      expect(tracker.containerViews('local').map((v) => v.observation.key)).not.toContain('doomed');
    });

    it('never reports excluded containers', async () => {
      const id = await act.run('ignored-1');
      const seen = (o: ContainerObservation) => o.id === id;
      await rec.next(hostIs('local', 'ok'), 'no-op', 1).catch(() => undefined);
      await collector.reconcile();
      expect(
        rec.outputs.some(
          (o) =>
            (o.kind === 'container' && seen(o.container)) ||
            (o.kind === 'snapshot' && o.containers.some(seen)),
        ),
      ).toBe(false);
    });

    it('misses nothing while its event stream is down: it reconciles after reconnecting', async () => {
      const id = await act.run('quiet', { start: false });
      const up = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'quiet running',
      );
      await act.post(id, 'start');
      await up;
      const lost = rec.next(hostIs('local', 'unreachable'), 'host unreachable');
      proxy.refuse(true);
      proxy.cut();
      await lost;
      // Changed behind the collector's back: no stream is open to tell it.
      await act.post(id, 'stop', '?t=1');
      await act.post(preId, 'kill');
      const reconciled = rec.next(
        (o) =>
          o.kind === 'snapshot' &&
          o.containers.some((c) => c.id === id && c.state === 'exited') &&
          o.containers.some((c) => c.id === preId && c.state === 'exited'),
        'a snapshot with quiet and pre exited',
      );
      const back = rec.next(hostIs('local', 'ok'), 'host ok again');
      proxy.refuse(false);
      await reconciled;
      await back;
      expect(events.filter((e) => e.subject === 'local').map((e) => e.type)).toEqual([
        'host_unreachable',
        'host_reachable',
      ]);
      // and the stream works again
      const again = rec.next(
        about(id, (o) => o.container.state === 'running'),
        'quiet via stream',
      );
      await act.post(id, 'start');
      expect(STARTING).toContain((await again).cause.action);
    });
  });
}
