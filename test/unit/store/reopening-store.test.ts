import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent, Severity, StoredEvent } from '../../../src/core/events.js';
import { SinkRunner } from '../../../src/sinks/sink-runner.js';
import { StoreError, type EventStore } from '../../../src/store/event-store.js';
import { openOrReopen, ReopeningEventStore } from '../../../src/store/reopening-store.js';
import { EventSpill } from '../../../src/store/spill.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { memoryLogger, type LogLine } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * The event store that could not open at start (issue 13 point 7), with time under the
 * test's control: the open is a real SqliteEventStore behind a switch that fails it as a
 * full disk does (StoreError `disk_full`) while it is on.
 */

const T0 = Date.UTC(2026, 0, 1);
const RETRY = { initialMs: 1_000, maxMs: 8_000 };

/** Lets promise chains (append, write back, registration) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

const ev = (severity: Severity, n: number): NewEvent => ({
  type: severity === 'critical' ? 'watchdog_unhealthy' : 'watchdog_recovered',
  severity,
  subject: 'watchdog',
  data: { n },
});

/** The real store with one method counted: how often a sink asks it for events. */
function countingReads(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const bound = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'readAfter') return bound;
      return (...args: unknown[]) => {
        reads++;
        return bound(...args);
      };
    },
  });
  return { store: counted, reads: () => reads };
}

describe('ReopeningEventStore', () => {
  let dir: string;
  let clock: ManualClock;
  let lines: LogLine[];
  let full: boolean;
  let attempts: number;
  let failWith: () => Error;
  const closers: (() => Promise<void>)[] = [];

  const open = (): EventStore => {
    const mem = memoryLogger();
    lines = mem.lines;
    const store = openOrReopen({
      open: () => {
        attempts++;
        if (full) throw failWith();
        return SqliteEventStore.open({ dataDir: dir, node: 'edge', clock });
      },
      path: `${dir}/events.db`,
      maxBytes: 1 << 20,
      clock,
      log: mem.log,
      retry: RETRY,
      random: () => 1, // no jitter: the delays are initialMs, 2×, 4× … up to maxMs
    });
    closers.push(() => store.close());
    return store;
  };

  beforeEach(async () => {
    dir = await makeTempDir('reopening-store');
    clock = new ManualClock(T0);
    full = true;
    attempts = 0;
    failWith = () => new StoreError('disk_full', `${dir}/events.db`, 'opening failed: full');
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await removeTempDir(dir);
  });

  it('is the real store when it opens at once', () => {
    full = false;
    expect(open()).toBeInstanceOf(SqliteEventStore);
    expect(attempts).toBe(1);
  });

  it('throws what retrying would not fix', () => {
    failWith = () => new StoreError('internal', `${dir}/events.db`, 'opening failed: a bug');
    expect(() => open()).toThrow(/opening failed: a bug/);
    expect(attempts).toBe(1);
  });

  it('refuses appends as a full disk until it opens, retrying with backoff', async () => {
    const store = open();
    expect(store).toBeInstanceOf(ReopeningEventStore);
    const refused = await store.append(ev('info', 1)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ reason: 'disk_full', retryable: true });
    expect((refused as Error).message).toContain('not open yet');
    expect(await store.query()).toEqual([]);
    expect(await store.stats()).toMatchObject({ count: 0, writable: false });

    clock.advance(999);
    expect(attempts).toBe(1);
    clock.advance(1);
    expect(attempts).toBe(2);
    clock.advance(2_000);
    expect(attempts).toBe(3);
    clock.advance(4_000);
    expect(attempts).toBe(4);
    clock.advance(8_000);
    clock.advance(8_000); // capped
    expect(attempts).toBe(6);

    full = false;
    clock.advance(8_000);
    await settle();
    expect(attempts).toBe(7);
    expect((store as ReopeningEventStore).open).toBe(true);
    expect(clock.pendingTimers).toBeGreaterThan(0); // the real store's maintenance only
    clock.advance(60_000);
    expect(attempts).toBe(7);
    expect((await store.append(ev('info', 2))).data).toEqual({ n: 2 });
    // One line for the outage however long, one when it ends.
    expect(lines.map((l) => l.msg)).toEqual([
      'event store cannot open: holding events in memory and retrying until it opens',
      'event store opened: held events are written next',
    ]);
  });

  it('held events reach the store and a sink that started before it opened', async () => {
    const counted = countingReads(open());
    const store = counted.store;
    const spill = new EventSpill({
      store,
      limits: { maxEvents: 3, maxBytes: 1 << 20 },
      clock,
      log: memoryLogger().log,
      retry: RETRY,
      random: () => 1,
    });
    closers.push(() => spill.stop());
    const delivered: StoredEvent[] = [];
    const sink = new SinkRunner({
      store,
      name: 'journal',
      startAt: 'now',
      deliver: (events) => {
        delivered.push(...events);
        return Promise.resolve();
      },
      clock,
      log: memoryLogger().log,
    });
    await sink.start();
    closers.push(() => sink.stop());

    for (const [i, severity] of (
      ['info', 'critical', 'info', 'critical', 'warning'] as const
    ).entries()) {
      spill.record(ev(severity, i + 1));
      clock.advance(10);
    }
    await settle();
    expect(spill.held).toBe(3);
    // An empty store: the sink read once at start and waits for a notice, not spinning.
    expect(counted.reads()).toBe(1);
    expect(sink.status()).toMatchObject({ failing: false, delivered: 0 });

    full = false;
    for (let i = 0; i < 4; i++) {
      clock.advance(RETRY.initialMs);
      await settle();
    }
    expect(spill.held).toBe(0);
    const events = await store.query({ limit: 100 });
    // Criticals first, then the warning; the two infos counted in one events_dropped.
    expect(events.map((e) => e.data)).toEqual([
      { n: 2 },
      { n: 4 },
      { n: 5 },
      expect.objectContaining({ reason: 'spill', count: 2, by_severity: { info: 2 } }),
    ]);
    // With the time each happened, not the time it was written.
    expect(events.slice(0, 3).map((e) => Date.parse(e.ts) - T0)).toEqual([10, 30, 40]);
    // Registered before the first write, so a sink starting at `now` misses none of them.
    await settle();
    expect(delivered.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(await store.sinks()).toEqual([
      { name: 'journal', cursor: events.at(-1)!.seq, registered: true },
    ]);
  });

  it('stops retrying when closed before it opens', async () => {
    const store = open();
    await store.close();
    expect(clock.pendingTimers).toBe(0);
    full = false;
    clock.advance(60_000);
    expect(attempts).toBe(1);
    expect(await store.append(ev('info', 1)).catch((err: unknown) => err)).toMatchObject({
      reason: 'closed',
    });
  });
});
