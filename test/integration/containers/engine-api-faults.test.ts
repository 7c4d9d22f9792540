import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalContainerCollector } from '../../../src/collectors/containers/local-collector.js';
import { ContainerSelector } from '../../../src/collectors/containers/selection.js';
import { Backoff } from '../../../src/core/backoff.js';
import { ManualClock, systemClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { EngineApi } from '../../../src/hosts/engine-api.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import type { ContainerEvent } from '../../../src/state/events.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { cannedRecord, fakeId } from './fake-engine.js';
import { FakeEngineApi, type ApiMode } from './fake-engine-api.js';
import { about, hostIs, OutputRecorder } from './helpers.js';

/**
 * Bad input on the engine API path (issue 5 point 7): truncated or non-JSON answers, a
 * wrong shape, an engine that hangs, garbage on the event stream, a missing socket. The
 * host is marked with a message, an event is produced, nothing crashes, and a second host
 * on the same tracker keeps being watched throughout.
 */
describe('engine API faults', () => {
  let dir: string;
  let bad: FakeEngineApi;
  let good: FakeEngineApi;
  let rec: OutputRecorder;
  let tracker: ContainerTracker;
  const events: ContainerEvent[] = [];
  const collectors: LocalContainerCollector[] = [];

  const collector = (host: string, socketPath: string) => {
    const c = new LocalContainerCollector({
      host,
      api: new EngineApi({ socketPath, timeoutMs: 500, clock: systemClock }),
      selector: new ContainerSelector({}),
      clock: systemClock,
      log: silentLogger(),
      sink: (o) => {
        rec.sink(o);
        tracker.apply(o);
      },
      reconcileEveryMs: 60_000,
      backoff: new Backoff({ initialMs: 50, maxMs: 200 }),
    });
    collectors.push(c);
    return c;
  };

  let badCollector: LocalContainerCollector;

  beforeAll(async () => {
    dir = await makeTempDir('engine-faults');
    bad = await FakeEngineApi.start(join(dir, 'bad.sock'), [
      cannedRecord('a') as Record<string, unknown>,
    ]);
    good = await FakeEngineApi.start(join(dir, 'good.sock'), [
      cannedRecord('b') as Record<string, unknown>,
    ]);
    rec = new OutputRecorder();
    tracker = new ContainerTracker({
      clock: new ManualClock(Date.now()),
      log: silentLogger(),
      downAfterMs: 60_000,
      cooldownMs: 60_000,
      onEvent: (e) => events.push(e),
    });
    badCollector = collector('bad', join(dir, 'bad.sock'));
    await Promise.all([badCollector.start(), collector('good', join(dir, 'good.sock')).start()]);
  });

  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.stop()));
    tracker?.stop();
    await bad?.stop();
    await good?.stop();
    if (dir) await removeTempDir(dir);
  });

  /** The good host still answers an event with an observation. */
  const goodStillWatched = async () => {
    const seen = rec.next(about(fakeId('b')), 'good host event');
    good.pushEvent(fakeId('b'), 'start');
    await seen;
  };

  const cases: [ApiMode, RegExp][] = [
    ['truncated-list', /^unix:\/\/.*bad\.sock GET \/containers\/json: answer is not valid JSON/],
    [
      'garbage-inspect',
      /bad\.sock GET \/containers\/[0-9a-f]{12}\/json: output is not valid JSON .*"<html>502/,
    ],
    ['wrong-shape', /: unexpected output: container\.State\.Status: expected a string, got 5$/],
    ['hang', /bad\.sock GET \/containers\/json: no answer within 500 ms$/],
  ];

  for (const [mode, message] of cases) {
    it(`marks the host degraded on ${mode}, says why, and recovers`, async () => {
      expect(tracker.hostView('bad')!.status).toBe('ok');
      bad.mode = mode;
      const degraded = rec.next(hostIs('bad', 'degraded'), `bad degraded (${mode})`);
      await badCollector.reconcile();
      expect((await degraded).message).toMatch(message);
      expect(events.at(-1)).toMatchObject({
        type: 'host_unreachable',
        subject: 'bad',
        data: { status: 'degraded' },
      });
      expect(tracker.containerViews('bad')).toHaveLength(1);
      await goodStillWatched();
      bad.mode = 'normal';
      const ok = rec.next(hostIs('bad', 'ok'), 'bad ok');
      await badCollector.reconcile();
      await ok;
      expect(events.at(-1)).toMatchObject({ type: 'host_reachable', subject: 'bad' });
    });
  }

  it('reconnects when the event stream carries garbage, and reconciles', async () => {
    const degraded = rec.next(hostIs('bad', 'degraded'), 'stream garbage');
    const snapshot = rec.next((o) => o.kind === 'snapshot' && o.host === 'bad', 'reconcile');
    const ok = rec.next(hostIs('bad', 'ok'), 'bad ok after reconnect');
    bad.pushEventLine('{"status":"sta');
    bad.pushEventLine('this is not an event');
    expect((await degraded).message).toMatch(/^event stream carried a line that is not JSON/);
    await snapshot;
    await ok;
    expect(bad.openStreams).toBe(1);
    await goodStillWatched();
  });

  it('handles an event about a container that is already gone', async () => {
    const gone = 'f'.repeat(64);
    const removed = rec.next((o) => o.kind === 'removed' && o.id === gone, 'removed');
    bad.pushEvent(gone, 'die');
    expect(await removed).toMatchObject({ host: 'bad', cause: { action: 'die' } });
  });

  it('reports a missing socket as unreachable and keeps retrying', async () => {
    const c = collector('nowhere', join(dir, 'missing.sock'));
    const down = rec.next(hostIs('nowhere', 'unreachable'), 'nowhere unreachable');
    await c.start();
    expect((await down).message).toMatch(/missing\.sock GET \/events: connect ENOENT/);
    expect(events.at(-1)).toMatchObject({ type: 'host_unreachable', subject: 'nowhere' });
    await goodStillWatched();
    await c.stop();
  });
});
