import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent, StoredEvent } from '../../../src/core/events.js';
import {
  Journal,
  JournalError,
  journalLine,
  journalSink,
  type OpenFile,
} from '../../../src/sinks/journal.js';
import type { SinkRunner } from '../../../src/sinks/sink-runner.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { filesUnder, linesOf } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (ms: number, over: Partial<NewEvent> = {}): NewEvent => ({
  type: 'container_down',
  severity: 'warning',
  subject: 'local/app',
  ts: ms,
  ...over,
});

describe('Journal over a real event store', () => {
  let dir: string;
  let dataDir: string;
  let journalDir: string;
  const stores: SqliteEventStore[] = [];
  const sinks: SinkRunner[] = [];

  const openStore = () => {
    const store = SqliteEventStore.open({ dataDir, node: 'edge', clock: new ManualClock(T0) });
    stores.push(store);
    return store;
  };
  const sinkOf = (store: SqliteEventStore, o: { open?: OpenFile; batch?: number } = {}) => {
    const { log, lines } = memoryLogger('debug');
    const clock = new ManualClock(T0);
    const sink = journalSink({
      store,
      journal: new Journal({ dir: journalDir, open: o.open }),
      batch: o.batch,
      retry: { initialMs: 1_000, maxMs: 1_000 },
      clock,
      log,
    });
    sinks.push(sink);
    return { sink, clock, lines };
  };
  const caughtUp = async (store: SqliteEventStore) => {
    const { lastSeq } = await store.stats();
    await eventually(async () => expect(await store.cursor('journal')).toBe(lastSeq));
  };

  beforeEach(async () => {
    dir = await makeTempDir('journal');
    dataDir = join(dir, 'data');
    journalDir = join(dir, 'journal');
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) void s.stop();
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    await removeTempDir(dir);
  });

  it('mirrors every event in seq order into one file per UTC day and node', async () => {
    const store = openStore();
    const before = await store.appendMany([
      at(T0 - 2_000),
      at(T0 - 1, { type: 'disk_pressure', subject: 'local:/srv', data: { used: 0.97 } }),
      at(T0),
      at(T0 + 3_600_000, { severity: 'critical' }),
    ]);
    const { sink } = sinkOf(store, { batch: 3 });
    await sink.start();
    await caughtUp(store);
    // Appended while running: the sink wakes on the append, no polling.
    const after = await store.appendMany([at(T0 + 7_200_000), at(T0 - 500)]);
    await caughtUp(store);

    const all = [...before, ...after];
    const day = (d: string) => join(journalDir, d, 'edge', 'events.jsonl');
    const expected = (d: string) =>
      all.filter((e) => e.ts.startsWith(d)).map((e) => journalLine(e).slice(0, -1));
    expect(filesUnder(journalDir)).toEqual([
      '2025-12-31/edge/events.jsonl',
      '2026-01-01/edge/events.jsonl',
    ]);
    expect(linesOf(day('2025-12-31'))).toEqual(expected('2025-12-31'));
    expect(linesOf(day('2026-01-01'))).toEqual(expected('2026-01-01'));
    expect(JSON.parse(linesOf(day('2025-12-31'))[1]!)).toEqual({
      id: before[1]!.id,
      ts: '2025-12-31T23:59:59.999Z',
      node: 'edge',
      type: 'disk_pressure',
      severity: 'warning',
      subject: 'local:/srv',
      data: { used: 0.97 },
    });
  });

  it("passes over the InfluxDB history's samples: stored, acknowledged, never written", async () => {
    const store = openStore();
    const sample = { severity: 'debug' as const, type: 'sample', subject: 'states' };
    const stored = await store.appendMany([
      at(T0, {
        ...sample,
        data: { points: [{ m: 'hosts', t: { host: 'nas' }, f: { up: true } }] },
      }),
      at(T0 + 1),
      at(T0 + 2, sample),
    ]);
    const { sink } = sinkOf(store);
    await sink.start();
    await caughtUp(store); // the cursor passed the samples as well
    expect(linesOf(join(journalDir, '2026-01-01', 'edge', 'events.jsonl'))).toEqual([
      journalLine(stored[1]!).slice(0, -1),
    ]);
  });

  it('only appends: existing lines stay, and a torn last line is ended first', async () => {
    const store = openStore();
    const [e] = await store.appendMany([at(T0)]);
    const file = join(journalDir, '2026-01-01', 'edge', 'events.jsonl');
    mkdirSync(join(journalDir, '2026-01-01', 'edge'), { recursive: true });
    writeFileSync(file, '{"id":"older"}\n{"id":"torn by a cra');
    await new Journal({ dir: journalDir }).deliver([e!]);
    expect(readFileSync(file, 'utf8')).toBe(
      `{"id":"older"}\n{"id":"torn by a cra\n${journalLine(e!)}`,
    );
  });

  it('never acks past lines whose fsync did not return: a crash rewrites them, nothing is lost', async () => {
    let store = openStore();
    const events = await store.appendMany([1, 2, 3, 4, 5, 6].map((i) => at(T0 + i)));
    let syncs = 0;
    let hung: (() => void) | undefined;
    const reachedHang = new Promise<void>((resolve) => (hung = resolve));
    // The second batch's fsync never returns: the process dies inside it.
    const stallingOpen: OpenFile = async (path, flags) => {
      const handle = await open(path, flags);
      if (!path.endsWith('.jsonl')) return handle;
      const sync = () => {
        if (++syncs !== 2) return handle.sync();
        hung!();
        return new Promise<void>(() => undefined);
      };
      return Object.assign(Object.create(handle) as typeof handle, {
        sync,
        writeFile: handle.writeFile.bind(handle),
        close: handle.close.bind(handle),
        stat: handle.stat.bind(handle),
        read: handle.read.bind(handle),
      });
    };
    const first = sinkOf(store, { open: stallingOpen, batch: 2 });
    await first.sink.start();
    await reachedHang;

    const file = join(journalDir, '2026-01-01', 'edge', 'events.jsonl');
    // The second batch is written but not synced: the cursor stays after the first batch.
    expect(linesOf(file)).toHaveLength(4);
    await eventually(async () => expect(await store.cursor('journal')).toBe(events[1]!.seq));

    // Restart (the stalled sink is abandoned, as a killed process would be): the cursor on
    // disk is still after the first batch.
    await store.close();
    store = openStore();
    expect((await store.sinks()).find((x) => x.name === 'journal')?.cursor).toBe(events[1]!.seq);
    const second = sinkOf(store);
    await second.sink.start();
    await caughtUp(store);

    const written = linesOf(file).map((l) => (JSON.parse(l) as StoredEvent).id);
    const ids = events.map((e) => e.id);
    // At least once: events 3 and 4 appear twice, everything appears, in order per run.
    expect(written).toEqual([...ids.slice(0, 4), ...ids.slice(2)]);
    expect(new Set(written)).toEqual(new Set(ids));
  });

  it('rejects a failed write with the path, keeps the cursor, and retries with backoff', async () => {
    const store = openStore();
    await store.appendMany([at(T0), at(T0 + 1)]);
    let failing = true;
    const failingOpen: OpenFile = async (path, flags) => {
      const handle = await open(path, flags);
      if (!failing || !path.endsWith('.jsonl')) return handle;
      const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      return Object.assign(Object.create(handle) as typeof handle, {
        sync: () => Promise.reject(eio),
        writeFile: handle.writeFile.bind(handle),
        close: handle.close.bind(handle),
        stat: handle.stat.bind(handle),
        read: handle.read.bind(handle),
      });
    };
    const file = join(journalDir, '2026-01-01', 'edge', 'events.jsonl');
    const events = await store.query();
    const rejected: unknown = await new Journal({ dir: journalDir, open: failingOpen })
      .deliver(events)
      .catch((err: unknown) => err);
    expect(rejected).toBeInstanceOf(JournalError);
    expect(rejected).toMatchObject({
      path: file,
      retryable: true,
      message: `journal ${file}: cannot append: EIO: i/o error, fsync`,
    });

    const { sink, clock, lines } = sinkOf(store, { open: failingOpen });
    await sink.start();
    const failed = (l: { msg: string }) => l.msg.startsWith('delivery failed');
    await eventually(() => expect(lines.some(failed)).toBe(true));
    expect(lines.find(failed)).toMatchObject({
      sink: 'journal',
      err: `journal ${file}: cannot append: EIO: i/o error, fsync`,
    });
    expect(await store.cursor('journal')).toBe(0);
    // A new append during the outage waits for the retry rather than hammering the disk.
    await store.append(at(T0 + 2));
    expect(lines.filter(failed)).toHaveLength(1);

    failing = false;
    clock.advance(1_000);
    await caughtUp(store);
    expect(lines.filter(failed)).toHaveLength(1);
  });

  it('runs concurrent deliveries one at a time, and writes none queued behind a failure', async () => {
    const store = openStore();
    const events = await store.appendMany([1, 2, 3, 4, 5, 6].map((i) => at(T0 + i)));
    const file = join(journalDir, '2026-01-01', 'edge', 'events.jsonl');
    const journal = new Journal({ dir: journalDir });
    await Promise.all([
      journal.deliver(events.slice(0, 2)),
      journal.deliver(events.slice(2, 4)),
      journal.deliver(events.slice(4)),
    ]);
    expect(linesOf(file)).toEqual(events.map((e) => journalLine(e).slice(0, -1)));

    let calls = 0;
    const failSecond: OpenFile = async (path, flags) => {
      if (path.endsWith('.jsonl') && ++calls === 1) throw new Error('EIO: i/o error, open');
      return open(path, flags);
    };
    const flaky = new Journal({ dir: journalDir, open: failSecond });
    const results = await Promise.allSettled([
      flaky.deliver(events.slice(0, 2)),
      flaky.deliver(events.slice(2, 4)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      message: 'journal: an earlier batch failed; not written',
    });
    // Nothing was added; a delivery after the failure goes through.
    expect(linesOf(file)).toHaveLength(6);
    await flaky.deliver(events.slice(0, 2));
    expect(linesOf(file)).toHaveLength(8);
  });
});
