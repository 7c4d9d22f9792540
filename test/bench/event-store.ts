import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '../../src/core/events.js';
import type { AppendCallback, StoreError } from '../../src/store/event-store.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../../src/store/sqlite-store.js';
import { measureAllocation } from './allocation.js';
import { runBaseline } from './baseline.js';
import { BENCH_NODE, benchEvents } from './event-store-rows.js';
import {
  loadNow,
  median,
  ratio,
  repeat,
  summarize,
  type BenchContext,
  type Benchmark,
  type Figure,
  type Summary,
} from './framework.js';

/** Events per batched run, and the wave: appends in flight at once, so the commit size. */
const EVENTS = 50_000;
const WAVE = 1_000;
/** One fsync per row is ~100× slower: fewer rows keep that run to a second or so. */
const SINGLE_EVENTS = 1_000;
/** Appends whose V8 heap allocation is counted (reported per 1,000). */
const ALLOC_EVENTS = 10_000;
const RUNS = 5;
const TARGET = 0.5;
/** Measured on main before issue 15's append path (one append() per event), for comparison. */
const BEFORE =
  'before: 1771 KiB (append(): JSON round trip and a promise per event; 2026-12-06, same bench)';

/** Appends `evs` in waves of `wave`, each wave awaited: resolves once all are fsynced. */
type AppendWaves = (
  store: SqliteEventStore,
  evs: readonly NewEvent[],
  wave: number,
) => Promise<void>;

/** `append()`: a promise per event, each wave awaited with Promise.all. */
const promisePerAppend: AppendWaves = async (store, evs, wave) => {
  for (let i = 0; i < evs.length; i += wave) {
    await Promise.all(evs.slice(i, i + wave).map((e) => store.append(e)));
  }
};

/**
 * `enqueue()`, as the agent's hot path appends (EventSpill.record): no promise per event,
 * one callback for all; a wave is done when it has answered every event.
 */
const enqueueEach: AppendWaves = async (store, evs, wave) => {
  let left = 0;
  let failure: StoreError | undefined;
  let wake = () => {};
  const done: AppendCallback<undefined> = (err) => {
    failure ??= err;
    if (--left === 0) wake();
  };
  for (let i = 0; i < evs.length; i += wave) {
    const end = Math.min(i + wave, evs.length);
    left = end - i;
    const answered = new Promise<void>((resolve) => (wake = resolve));
    for (let j = i; j < end; j++) store.enqueue(evs[j]!, done, undefined);
    await answered;
    if (failure) throw failure;
  }
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'outpost-bench-store-'));
}

/** A temp dir whose events.db holds the store's schema (made by the store: same indexes). */
async function schemaDir(): Promise<string> {
  const dir = tempDir();
  await SqliteEventStore.open({ dataDir: dir, node: BENCH_NODE }).close();
  return dir;
}

const elapsed = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** The store side, in this process (under the agent's launcher): events/s into a fresh store. */
async function storeRun(form: AppendWaves, evs: readonly NewEvent[], wave: number) {
  const dir = tempDir();
  const store = SqliteEventStore.open({ dataDir: dir, node: BENCH_NODE });
  try {
    const start = process.hrtime.bigint();
    await form(store, evs, wave);
    const secs = elapsed(start);
    const stats = await store.stats();
    if (stats.appended !== evs.length) throw new Error(`appended ${stats.appended}`);
    return { perSec: evs.length / secs, meanBatch: stats.appended / stats.commits };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bare side: better-sqlite3 under plain node in its own process (baselines/sqlite-insert). */
async function bareRun(ctx: BenchContext, n: number, wave: number): Promise<number> {
  const dirs = [await schemaDir(), await schemaDir()];
  try {
    const dbs = dirs.map((d) => join(d, EVENTS_DB_FILE));
    const r = await runBaseline<{ rowsPerSec: number }>(ctx.root, 'sqlite-insert', [
      ...dbs,
      String(n),
      String(wave),
    ]);
    return r.rowsPerSec;
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

interface Run {
  store: number;
  /** The same appends through `append()`, a promise each. */
  promise: number;
  bare: number;
  meanBatch: number;
  load: number;
}

/**
 * One run of each side (the store through `enqueue`, as the agent appends, and through
 * `append`, a promise each), the order rotating run by run so that a machine growing busier
 * does not favour one side.
 */
async function sideBySide(
  ctx: BenchContext,
  evs: readonly NewEvent[],
  wave: number,
  i: number,
): Promise<Run> {
  let bare = 0;
  let store = { perSec: 0, meanBatch: 0 };
  let promise = 0;
  const steps = [
    async () => (bare = await bareRun(ctx, evs.length, wave)),
    async () => (store = await storeRun(enqueueEach, evs, wave)),
    async () => (promise = (await storeRun(promisePerAppend, evs, wave)).perSec),
  ];
  for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  return { store: store.perSec, promise, bare, meanBatch: store.meanBatch, load: loadNow() };
}

/** V8 heap bytes allocated per 1,000 appends (a fresh store, appended in waves). */
async function allocationPer1000(form: AppendWaves, evs: readonly NewEvent[]): Promise<number> {
  const dir = tempDir();
  const store = SqliteEventStore.open({ dataDir: dir, node: BENCH_NODE });
  try {
    await form(store, evs.slice(0, WAVE), WAVE); // statements and code paths warm
    const { allocation } = await measureAllocation(() => form(store, evs, WAVE));
    return (allocation.bytes / evs.length) * 1000;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const perSec = (v: number) => Math.round(v);
const spreadOf = (s: Summary) => `min ${perSec(s.min)}, max ${perSec(s.max)}, ${s.runs} runs`;
const kib = (bytes: number) => Math.round(bytes / 1024);

/** Durable append throughput of the event store against bare better-sqlite3 doing the same. */
export const eventStoreAppend: Benchmark = {
  name: 'event-store-append',
  description:
    `Durable appends/s of the SQLite event store (WAL, synchronous=FULL, group commit) in ` +
    `the bench process, under the agent's launcher: ${EVENTS.toLocaleString('en')} events ` +
    `appended ${WAVE.toLocaleString('en')} at a time without waiting, each wave awaited (an ` +
    `append is answered only after its fsynced commit), through enqueue() (a callback shared ` +
    `by all events, as the agent's EventSpill appends) and, beside it, append() (a promise ` +
    `each). Baseline, in the same run: bare better-sqlite3 under plain node in its own ` +
    `process (test/bench/baselines/sqlite-insert.ts) inserting the same rows into the same ` +
    `schema with the same pragmas, one transaction per wave, rows prepared before its clock ` +
    `starts; the sides take turns going first. Then one at a time ` +
    `(${SINGLE_EVENTS.toLocaleString('en')} events): each append awaited against bare ` +
    `one-fsync-per-row inserts. Medians of ${RUNS} runs after a warm-up, with the 1-minute ` +
    `load average. Allocation: V8 heap bytes allocated (v8.GCProfiler) while ` +
    `${ALLOC_EVENTS.toLocaleString('en')} events are appended in waves, per 1,000, median ` +
    `of 3. Target: store (enqueue) ≥ ${TARGET * 100} % of the bare batched insert.`,
  async run(ctx) {
    const evs = benchEvents(EVENTS);
    const single = benchEvents(SINGLE_EVENTS);
    ctx.log('event-store-append: warm-up');
    await storeRun(enqueueEach, evs.slice(0, 10_000), WAVE);
    await storeRun(promisePerAppend, evs.slice(0, 10_000), WAVE);

    const batched = await repeat(RUNS, async (i) => {
      const r = await sideBySide(ctx, evs, WAVE, i);
      ctx.log(
        `event-store-append: run ${i + 1}/${RUNS}: store ${perSec(r.store)}/s ` +
          `(mean batch ${r.meanBatch.toFixed(0)}), append() ${perSec(r.promise)}/s, ` +
          `bare ${perSec(r.bare)}/s, ` +
          `ratio ${(r.store / r.bare).toFixed(2)}, load ${r.load.toFixed(2)}`,
      );
      return r;
    });
    const oneByOne = await repeat(RUNS, async (i) => {
      const r = await sideBySide(ctx, single, 1, i);
      ctx.log(
        `event-store-append: one at a time, run ${i + 1}/${RUNS}: ` +
          `store ${perSec(r.store)}/s, append() ${perSec(r.promise)}/s, bare ${perSec(r.bare)}/s`,
      );
      return r;
    });
    const alloc = await repeat(3, async () => {
      const bytes = await allocationPer1000(enqueueEach, evs.slice(0, ALLOC_EVENTS));
      const promise = await allocationPer1000(promisePerAppend, evs.slice(0, ALLOC_EVENTS));
      ctx.log(
        `event-store-append: allocated per 1,000 appends: enqueue ${kib(bytes)} KiB, ` +
          `append() ${kib(promise)} KiB`,
      );
      return { bytes, promise };
    });
    return figures(batched, oneByOne, alloc);
  },
};

function figures(
  batched: Run[],
  oneByOne: Run[],
  alloc: { bytes: number; promise: number }[],
): Figure[] {
  const store = summarize(batched.map((r) => r.store));
  const bare = summarize(batched.map((r) => r.bare));
  const share = summarize(batched.map((r) => r.store / r.bare));
  const batch = summarize(batched.map((r) => r.meanBatch));
  const load = median(batched.map((r) => r.load));
  const storeOne = summarize(oneByOne.map((r) => r.store));
  const bareOne = summarize(oneByOne.map((r) => r.bare));
  const loadOne = median(oneByOne.map((r) => r.load));
  const bytes = summarize(alloc.map((a) => a.bytes));
  const bytesPromise = summarize(alloc.map((a) => a.promise));
  const promise = summarize(batched.map((r) => r.promise));
  const promiseShare = summarize(batched.map((r) => r.promise / r.bare));
  return [
    {
      label: 'store durable appends/s, enqueue (as the agent), group commit (median)',
      value: perSec(store.median),
      unit: 'events/s',
      note: `${spreadOf(store)}; mean commit ${batch.median.toFixed(0)} events`,
      load,
    },
    {
      label: 'bare better-sqlite3 batched insert, own process (median)',
      value: perSec(bare.median),
      unit: 'rows/s',
      note: `${spreadOf(bare)}; same rows, schema, pragmas and batch; baseline`,
      load,
    },
    {
      label: 'store / bare batched (median of per-run ratios)',
      value: share.median,
      unit: '×',
      note: `min ${share.min.toFixed(2)}, max ${share.max.toFixed(2)}`,
      load,
    },
    {
      label: `target ≥ ${TARGET * 100} % of bare`,
      value: share.median >= TARGET ? 'pass' : 'FAIL',
      unit: '',
      note: `${(share.median * 100).toFixed(0)} %`,
      load,
    },
    {
      label: 'V8 heap allocated per 1,000 appends (median)',
      value: kib(bytes.median),
      unit: 'KiB',
      note: `min ${kib(bytes.min)}, max ${kib(bytes.max)}, 3 runs; ${BEFORE}`,
    },
    {
      label: 'store through append(), a promise each (median)',
      value: perSec(promise.median),
      unit: 'events/s',
      note: `${spreadOf(promise)}; / bare ${promiseShare.median.toFixed(2)} (min ${promiseShare.min.toFixed(2)}, max ${promiseShare.max.toFixed(2)})`,
      load,
    },
    {
      label: 'V8 heap allocated per 1,000 append() calls (median)',
      value: kib(bytesPromise.median),
      unit: 'KiB',
      note: `min ${kib(bytesPromise.min)}, max ${kib(bytesPromise.max)}, 3 runs`,
    },
    {
      label: 'store, each append awaited (median)',
      value: perSec(storeOne.median),
      unit: 'events/s',
      note: `${spreadOf(storeOne)}; one commit and one fsync per event`,
      load: loadOne,
    },
    {
      label: 'bare one-fsync-per-row insert, own process (median)',
      value: perSec(bareOne.median),
      unit: 'rows/s',
      note: `${spreadOf(bareOne)}; baseline`,
      load: loadOne,
    },
    {
      label: 'store / bare, one at a time',
      value: summarize(oneByOne.map((r) => r.store / r.bare)).median,
      unit: '×',
      load: loadOne,
    },
    {
      label: 'store: group commit / one at a time',
      value: ratio(store.median, storeOne.median),
      unit: '×',
    },
  ];
}
