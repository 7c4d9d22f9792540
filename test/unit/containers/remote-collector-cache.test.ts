import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { dedupeByKey, observe } from '../../../src/collectors/containers/normalize.js';
import { RemoteContainerCollector } from '../../../src/collectors/containers/remote-collector.js';
import { ContainerSelector } from '../../../src/collectors/containers/selection.js';
import type {
  ContainerCollectorOutput,
  ContainerObservation,
  ContainerSnapshotOutput,
} from '../../../src/collectors/containers/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { RemoteEngine } from '../../../src/hosts/remote-engine.js';
import type { SshConnection } from '../../../src/hosts/ssh-connection.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import type { ContainerEvent } from '../../../src/state/events.js';
import { shellRunner } from '../../helpers/shell-runner.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import {
  cannedRecord,
  createFakeEngine,
  type FakeEngine,
} from '../../integration/containers/fake-engine.js';

/**
 * Issue #15: inspect records that are byte-identical to the last poll's are not parsed
 * again; their observations are handed on as the very same objects. The engine is the
 * fake engine CLI run through a local shell (as sshd would run it); only the SSH
 * connection's start/stop is left out, since a poll is asked for directly.
 */

const MIN = 60_000;
const noSsh = {
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
} as unknown as SshConnection;

let base: string;
let fake: FakeEngine;

beforeAll(async () => {
  base = await makeTempDir('remote-collector-cache');
  fake = await createFakeEngine(base, []);
  return async () => removeTempDir(base);
});
afterAll(async () => fake?.killHung());

function collectorOn(clock: ManualClock, sink: (o: ContainerCollectorOutput) => void) {
  const engine = new RemoteEngine({
    runner: shellRunner({ streaming: true }),
    command: fake.command,
    timeoutMs: 5_000,
    source: 'nas',
  });
  return new RemoteContainerCollector({
    host: 'nas',
    ssh: noSsh,
    engine,
    selector: new ContainerSelector({ exclude: ['skip*'], critical: ['*'] }),
    clock,
    log: silentLogger(),
    sink,
    // Polls are asked for by the test; the timer's never comes within its few minutes.
    pollEveryMs: 24 * 60 * MIN,
  });
}

/** A started collector (its polls run only once started), stopped after the test. */
async function started(
  clock: ManualClock,
  sink: (o: ContainerCollectorOutput) => void,
): Promise<RemoteContainerCollector> {
  const collector = collectorOn(clock, sink);
  await collector.start();
  onTestFinished(() => collector.stop());
  return collector;
}

function snapshots() {
  const seen: ContainerSnapshotOutput[] = [];
  const sink = (o: ContainerCollectorOutput) => {
    if (o.kind === 'snapshot') seen.push(o);
  };
  return { seen, sink };
}

const byName = (s: ContainerSnapshotOutput) =>
  new Map(s.containers.map((o): [string, ContainerObservation] => [o.name, o]));

describe('RemoteContainerCollector: unchanged inspect records are not parsed again', () => {
  it('hands on the same observations, and the same list, when nothing changed', async () => {
    await fake.setContainers([cannedRecord('a'), cannedRecord('b'), cannedRecord('skip-me')]);
    const clock = new ManualClock(Date.parse('2026-11-21T12:00:00Z'));
    const { seen, sink } = snapshots();
    const collector = await started(clock, sink);
    await collector.poll();
    expect(collector.parseStats).toEqual({ parsed: 3, reused: 0, unchanged: 0 });
    clock.advance(MIN);
    await collector.poll();
    expect(collector.parseStats).toEqual({ parsed: 3, reused: 3, unchanged: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.containers).toBe(seen[0]!.containers);
    expect(seen[1]!.containers.map((o) => o.name).sort()).toEqual(['a', 'b']);
    // The snapshot's own time moves on; the container's observation is the one it had.
    expect(seen[1]!.at).toBe(seen[0]!.at + MIN);
  });

  it('parses only the record that changed and reuses the others', async () => {
    await fake.setContainers([cannedRecord('a'), cannedRecord('b'), cannedRecord('c')]);
    const clock = new ManualClock(Date.parse('2026-11-21T12:00:00Z'));
    const { seen, sink } = snapshots();
    const collector = await started(clock, sink);
    await collector.poll();
    await fake.setContainers([
      cannedRecord('a'),
      cannedRecord('b', { state: 'exited', exitCode: 137 }),
      cannedRecord('c'),
    ]);
    await collector.poll();
    expect(collector.parseStats).toEqual({ parsed: 4, reused: 2, unchanged: 0 });
    const [first, second] = [byName(seen[0]!), byName(seen[1]!)];
    expect(second.get('a')).toBe(first.get('a'));
    expect(second.get('c')).toBe(first.get('c'));
    expect(second.get('b')).not.toBe(first.get('b'));
    expect(second.get('b')).toMatchObject({ state: 'exited', exitCode: 137 });
    // Back as it was: a record of two polls ago is parsed again (only the last is kept).
    await fake.setContainers([cannedRecord('a'), cannedRecord('b'), cannedRecord('c')]);
    await collector.poll();
    expect(collector.parseStats).toEqual({ parsed: 5, reused: 4, unchanged: 0 });
    expect(byName(seen[2]!).get('b')).toMatchObject({ state: 'running' });
  });

  it('keeps the last complete listing across a failed poll', async () => {
    await fake.setContainers([cannedRecord('a'), cannedRecord('b')]);
    const clock = new ManualClock(Date.parse('2026-11-21T12:00:00Z'));
    const { seen, sink } = snapshots();
    const collector = await started(clock, sink);
    await collector.poll();
    await fake.setMode('garbage');
    try {
      await collector.poll();
    } finally {
      await fake.setMode('normal');
    }
    expect(seen).toHaveLength(1);
    await collector.poll();
    expect(collector.parseStats).toEqual({ parsed: 2, reused: 2, unchanged: 1 });
    expect(seen[1]!.containers).toBe(seen[0]!.containers);
  });

  it('leaves the tracker’s events and states exactly as parsing every record would', async () => {
    const clock = new ManualClock(Date.parse('2026-11-21T12:00:00Z'));
    const track = () => {
      const events: ContainerEvent[] = [];
      const states: unknown[] = [];
      const tracker = new ContainerTracker({
        clock,
        log: silentLogger(),
        downAfterMs: 2 * MIN,
        cooldownMs: 30 * MIN,
        onEvent: (e) => events.push(e),
        onContainer: (h, k, v) => states.push([h, k, v && { ...v.observation, alert: v.alert }]),
      });
      return { tracker, events, states };
    };
    const cached = track();
    const fresh = track();
    const collector = await started(clock, (o) => cached.tracker.apply(o));
    const engine = new RemoteEngine({
      runner: shellRunner(),
      command: fake.command,
      timeoutMs: 5_000,
      source: 'nas',
    });
    const selector = new ContainerSelector({ exclude: ['skip*'], critical: ['*'] });
    const steps: object[][] = [
      [cannedRecord('a'), cannedRecord('b')],
      [cannedRecord('a'), cannedRecord('b')],
      [cannedRecord('a'), cannedRecord('b', { state: 'exited', exitCode: 1 })],
      [cannedRecord('a'), cannedRecord('b', { state: 'exited', exitCode: 1 })],
      [cannedRecord('a'), cannedRecord('b', { state: 'exited', exitCode: 1 })],
      [cannedRecord('a', { health: 'unhealthy' }), cannedRecord('b')],
      [cannedRecord('a', { health: 'unhealthy' }), cannedRecord('b')],
      [cannedRecord('b')],
      [cannedRecord('b')],
    ];
    for (const records of steps) {
      await fake.setContainers(records);
      await collector.poll();
      const { records: all } = await engine.listAll();
      const now = clock.now();
      const observed = all.flatMap((r) => observe('nas', r, selector, now) ?? []);
      fresh.tracker.apply({
        kind: 'snapshot',
        host: 'nas',
        containers: dedupeByKey(observed),
        at: now,
      });
      clock.advance(MIN);
    }
    expect(collector.parseStats.reused).toBeGreaterThan(0);
    const types = cached.events.map((e) => `${e.type} ${e.subject}`);
    expect(types).toEqual(
      expect.arrayContaining(['container_down nas/b', 'container_recovered nas/b']),
    );
    // Incident and event ids are random; everything else must match.
    const ids = (events: ContainerEvent[]) =>
      JSON.parse(
        JSON.stringify(events).replace(/"[0-9a-f]{8}-[0-9a-f-]{27}"/g, '"uuid"'),
      ) as unknown;
    expect(ids(cached.events)).toEqual(ids(fresh.events));
    // Uptime and observation time are the only fields that may differ: a reused
    // observation keeps those of the poll that first saw its record.
    const stable = (list: unknown[]) =>
      list.map((s) => {
        const [h, k, v] = s as [string, string, Record<string, unknown> | undefined];
        if (!v) return [h, k, v];
        const { uptimeMs: _u, observedAt: _o, ...rest } = v;
        return [h, k, rest];
      });
    expect(stable(cached.states)).toEqual(stable(fresh.states));
  });
});
