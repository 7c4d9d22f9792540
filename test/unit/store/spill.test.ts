import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent, Severity, StoredEvent } from '../../../src/core/events.js';
import {
  StoreError,
  type AppendCallback,
  type EventStore,
} from '../../../src/store/event-store.js';
import { EventSpill } from '../../../src/store/spill.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { memoryLogger, type LogLine } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * The spill's policy with time under the test's control: a real event store behind a gate
 * that refuses appends as a full disk does (StoreError `disk_full`) while it is shut.
 */

const T0 = Date.UTC(2026, 0, 1);
const RETRY = { initialMs: 1_000, maxMs: 8_000 };

class Gate implements Pick<EventStore, 'append' | 'enqueue'> {
  full = false;
  attempts = 0;
  readonly #store: SqliteEventStore;

  constructor(store: SqliteEventStore) {
    this.#store = store;
  }

  append(e: NewEvent): Promise<StoredEvent> {
    this.attempts++;
    if (this.full) {
      const err = new StoreError('disk_full', '/data/events.db', 'appending failed: disk full');
      return Promise.reject(err);
    }
    return this.#store.append(e);
  }

  enqueue<T>(e: NewEvent, done: AppendCallback<T>, token: T): void {
    this.attempts++;
    if (this.full) {
      const err = new StoreError('disk_full', '/data/events.db', 'appending failed: disk full');
      queueMicrotask(() => done(err, undefined, token));
      return;
    }
    this.#store.enqueue(e, done, token);
  }
}

/** Lets the spill's promise chains (append, write back) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

const ev = (severity: Severity, n: number): NewEvent => ({
  type: severity === 'critical' ? 'watchdog_unhealthy' : 'watchdog_recovered',
  severity,
  subject: 'watchdog',
  data: { n },
});

describe('EventSpill', () => {
  let dir: string;
  let store: SqliteEventStore;
  let gate: Gate;
  let clock: ManualClock;
  let lines: LogLine[];
  let spill: EventSpill;

  const open = (maxEvents: number, maxBytes = 1 << 20) => {
    const mem = memoryLogger();
    lines = mem.lines;
    spill = new EventSpill({
      store: gate,
      limits: { maxEvents, maxBytes },
      clock,
      log: mem.log,
      retry: RETRY,
      random: () => 1, // no jitter: the delays are initialMs, 2×, 4× … up to maxMs
    });
  };
  const stored = async () => (await store.query({ limit: 1_000 })).map((e) => e.data);
  /** Records while the store refuses, so the spill holds them. */
  const hold = async (events: NewEvent[]) => {
    gate.full = true;
    for (const e of events) {
      spill.record(e);
      clock.advance(10);
    }
    await settle();
  };

  beforeEach(async () => {
    dir = await makeTempDir('spill');
    clock = new ManualClock(T0);
    store = SqliteEventStore.open({ dataDir: dir, node: 'edge', clock });
    gate = new Gate(store);
  });
  afterEach(async () => {
    await spill.stop();
    await store.close();
    await removeTempDir(dir);
  });

  it('writes straight to the store while it accepts', async () => {
    open(10);
    spill.record(ev('info', 1));
    await settle();
    expect(await stored()).toEqual([{ n: 1 }]);
    expect(spill.held).toBe(0);
  });

  it('holds what the store refuses and writes it back, in order and with its own time', async () => {
    open(10);
    await hold([ev('info', 1), ev('critical', 2), ev('info', 3)]);
    expect(spill.held).toBe(3);
    expect(await stored()).toEqual([]);
    // Recorded while held: behind the others, never around them.
    gate.full = false;
    spill.record(ev('warning', 4));
    await settle();
    expect(await stored()).toEqual([]);

    clock.advance(RETRY.initialMs);
    await settle();
    const events = await store.query({ limit: 1_000 });
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(events.map((e) => Date.parse(e.ts) - T0)).toEqual([0, 10, 20, 30]);
    expect(spill.held).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual([
      'event store cannot write: holding events in memory until it can',
      'event store writable again: held events written',
    ]);
  });

  it('keeps criticals over lower severities and counts the rest in one events_dropped', async () => {
    open(3);
    await hold([
      ev('info', 1),
      ev('critical', 2),
      ev('warning', 3),
      ev('info', 4),
      ev('critical', 5),
      ev('critical', 6),
    ]);
    expect(spill.held).toBe(3);
    gate.full = false;
    clock.advance(RETRY.initialMs);
    await settle();
    const events = await store.query({ limit: 1_000 });
    expect(events.map((e) => e.type)).toEqual([
      'watchdog_unhealthy',
      'watchdog_unhealthy',
      'watchdog_unhealthy',
      'events_dropped',
    ]);
    expect(events.slice(0, 3).map((e) => e.data)).toEqual([{ n: 2 }, { n: 5 }, { n: 6 }]);
    expect(events[3]).toMatchObject({
      severity: 'warning',
      subject: 'event_store',
      data: {
        reason: 'spill',
        count: 3,
        by_severity: { info: 2, warning: 1 },
        by_type: { watchdog_recovered: 3 },
      },
    });
  });

  it('drops the oldest critical only when nothing lower is held, and bounds bytes too', async () => {
    open(100, 600);
    const big = (n: number): NewEvent => ({
      ...ev('critical', n),
      data: { n, pad: 'x'.repeat(150) },
    });
    await hold([big(1), big(2), big(3), big(4), big(5)]);
    expect(spill.held).toBeLessThan(5);
    gate.full = false;
    clock.advance(RETRY.initialMs);
    await settle();
    const events = await store.query({ limit: 1_000 });
    const kept = events.filter((e) => e.type !== 'events_dropped').map((e) => e.data.n);
    const dropped = events.find((e) => e.type === 'events_dropped')!.data;
    // The newest survive; the count covers exactly the ones that did not.
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual([1, 2, 3, 4, 5].slice(5 - kept.length));
    expect(dropped).toMatchObject({
      count: 5 - kept.length,
      by_severity: { critical: 5 - kept.length },
    });
  });

  it('retries with a growing delay while the store still refuses, and loses nothing', async () => {
    open(10);
    await hold([ev('critical', 1)]);
    const attemptsAt = (ms: number) => {
      const before = gate.attempts;
      clock.advance(ms);
      return settle().then(() => gate.attempts - before);
    };
    // 1 s, then 2 s, then 4 s: nothing in between.
    expect(await attemptsAt(999)).toBe(0);
    expect(await attemptsAt(1)).toBe(1);
    expect(await attemptsAt(1_999)).toBe(0);
    expect(await attemptsAt(1)).toBe(1);
    expect(await attemptsAt(3_999)).toBe(0);
    expect(await attemptsAt(1)).toBe(1);
    expect(spill.held).toBe(1);
    gate.full = false;
    await attemptsAt(RETRY.maxMs);
    expect(await stored()).toEqual([{ n: 1 }]);
    // One outage, one line each way: not one per refused append.
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('does not hold an event the store rejects for itself', async () => {
    open(10);
    spill.record({ type: 'Not A Type', severity: 'info', subject: 'x' });
    await settle();
    expect(spill.held).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'event not stored' }));
  });

  it('tries once more at stop and says what it could not write', async () => {
    open(10);
    await hold([ev('critical', 1), ev('info', 2)]);
    await spill.stop();
    expect(lines.at(-1)).toMatchObject({
      level: 'error',
      msg: 'event store still cannot write: held events lost at stop',
      lost: 2,
      by_severity: { critical: 1, info: 1 },
    });
  });

  it('writes what it holds at stop when the store takes it', async () => {
    open(10);
    await hold([ev('critical', 1)]);
    gate.full = false;
    await spill.stop();
    expect(await stored()).toEqual([{ n: 1 }]);
  });
});
