import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SEVERITIES, severityRank, type NewEvent } from '../../src/core/events.js';
import { payloadBytes } from '../../src/store/event-store.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../../src/store/sqlite-store.js';
import { ulidGenerator } from '../../src/store/ulid.js';
import { ratio, repeat, summarize, type Benchmark, type Figure } from './framework.js';

/** Events per batched run, and the wave: appends in flight at once, so the commit size. */
const EVENTS = 50_000;
const WAVE = 1_000;
/** One fsync per row is ~100× slower: fewer rows keep that run to a second or so. */
const SINGLE_EVENTS = 1_000;
const RUNS = 5;
const TARGET = 0.5;
const NODE = 'bench-node';

function events(n: number): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: i % 3 === 0 ? 'container_down' : 'disk_pressure',
    severity: SEVERITIES[i % SEVERITIES.length]!,
    subject: `local/container-${i % 40}`,
    data: { exit_code: 137, restarts: i % 7, image: 'eclipse-mosquitto:2.0.18', i },
  }));
}

/** The rows the store writes for `evs`, ready to bind: the bare side does no other work. */
function rows(evs: readonly NewEvent[]): unknown[][] {
  const nextId = ulidGenerator();
  const ts = Date.now();
  const iso = new Date(ts).toISOString();
  return evs.map((e, i) => {
    const data = JSON.stringify(e.data);
    const id = nextId(ts);
    const fields = {
      id,
      ts: iso,
      node: NODE,
      type: e.type,
      severity: e.severity,
      subject: e.subject,
    };
    const size = payloadBytes(fields, data);
    return [i + 1, id, ts, NODE, e.type, severityRank(e.severity), e.subject, data, size];
  });
}

interface Pair {
  store: SqliteEventStore;
  /** Inserts rows in one transaction on a bare connection. */
  bare: (chunk: readonly unknown[][]) => void;
  close(): Promise<void>;
}

/**
 * A fresh store, and beside it a bare better-sqlite3 connection to a second database with
 * the same schema (made by opening a store, so the indexes match) and the same pragmas.
 */
async function openPair(): Promise<Pair> {
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'outpost-bench-store-')));
  const store = SqliteEventStore.open({ dataDir: dirs[0]!, node: NODE });
  await SqliteEventStore.open({ dataDir: dirs[1]!, node: NODE }).close();
  const db = new Database(join(dirs[1]!, EVENTS_DB_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const insert = db.prepare(
    'INSERT INTO events (seq, id, ts, node, type, sev, subject, data, size) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const bare = db.transaction((chunk: readonly unknown[][]) => {
    for (const r of chunk) insert.run(...r);
  });
  return {
    store,
    bare,
    async close() {
      await store.close();
      db.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

const elapsed = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/**
 * One run: `wave` store appends issued at once and awaited (group commit), then the same
 * rows as one bare transaction, alternating wave by wave so that whatever else the machine
 * is doing slows both sides alike. Returns events/s of each side.
 */
async function sideBySide(evs: readonly NewEvent[], bareRows: readonly unknown[][], wave: number) {
  const pair = await openPair();
  let storeSecs = 0;
  let bareSecs = 0;
  try {
    for (let i = 0; i < evs.length; i += wave) {
      const batch = evs.slice(i, i + wave);
      let start = process.hrtime.bigint();
      await Promise.all(batch.map((e) => pair.store.append(e)));
      storeSecs += elapsed(start);
      const chunk = bareRows.slice(i, i + wave);
      start = process.hrtime.bigint();
      pair.bare(chunk);
      bareSecs += elapsed(start);
    }
    const stats = await pair.store.stats();
    return {
      store: evs.length / storeSecs,
      bare: evs.length / bareSecs,
      meanBatch: stats.appended / stats.commits,
    };
  } finally {
    await pair.close();
  }
}

const perSec = (v: number) => Math.round(v);
const spread = (s: { min: number; max: number }) => `min ${perSec(s.min)}, max ${perSec(s.max)}`;

/** Durable append throughput of the event store against bare better-sqlite3 doing the same. */
export const eventStoreAppend: Benchmark = {
  name: 'event-store-append',
  description:
    `Durable appends/s of the SQLite event store (WAL, synchronous=FULL, group commit): ` +
    `${EVENTS.toLocaleString('en')} events appended ${WAVE.toLocaleString('en')} at a time ` +
    `without waiting, each wave awaited (an append resolves only after its fsynced commit). ` +
    `Side by side, alternating wave by wave in the same run: bare better-sqlite3 inserting ` +
    `the same prepared rows into the same schema with the same pragmas, one transaction per ` +
    `wave. Then one at a time (${SINGLE_EVENTS.toLocaleString('en')} events): each append ` +
    `awaited against bare one-fsync-per-row inserts. Medians of ${RUNS} runs after a warm-up. ` +
    `Target: store ≥ ${TARGET * 100} % of the bare batched insert.`,
  async run(ctx) {
    const evs = events(EVENTS);
    const bareRows = rows(evs);
    const single = events(SINGLE_EVENTS);
    const singleRows = rows(single);
    ctx.log('event-store-append: warm-up');
    await sideBySide(evs.slice(0, 10_000), bareRows.slice(0, 10_000), WAVE);

    const batched = await repeat(RUNS, async (i) => {
      const r = await sideBySide(evs, bareRows, WAVE);
      ctx.log(
        `event-store-append: run ${i + 1}/${RUNS}: store ${perSec(r.store)}/s ` +
          `(mean batch ${r.meanBatch.toFixed(0)}), bare ${perSec(r.bare)}/s`,
      );
      return r;
    });
    const oneByOne = await repeat(RUNS, async (i) => {
      const r = await sideBySide(single, singleRows, 1);
      ctx.log(
        `event-store-append: one at a time, run ${i + 1}/${RUNS}: ` +
          `store ${perSec(r.store)}/s, bare ${perSec(r.bare)}/s`,
      );
      return r;
    });
    return figures(batched, oneByOne);
  },
};

type Result = Awaited<ReturnType<typeof sideBySide>>;

function figures(batched: Result[], oneByOne: Result[]): Figure[] {
  const store = summarize(batched.map((r) => r.store));
  const bare = summarize(batched.map((r) => r.bare));
  const share = summarize(batched.map((r) => r.store / r.bare));
  const batch = summarize(batched.map((r) => r.meanBatch));
  const storeOne = summarize(oneByOne.map((r) => r.store));
  const bareOne = summarize(oneByOne.map((r) => r.bare));
  return [
    {
      label: 'store durable appends/s, group commit (median)',
      value: perSec(store.median),
      unit: 'events/s',
      note: `${spread(store)}; mean commit ${batch.median.toFixed(0)} events`,
    },
    {
      label: 'bare better-sqlite3 batched insert (median)',
      value: perSec(bare.median),
      unit: 'rows/s',
      note: `${spread(bare)}; same rows, schema, pragmas and batch; baseline`,
    },
    {
      label: 'store / bare batched (median of per-run ratios)',
      value: share.median,
      unit: '×',
      note: `min ${share.min.toFixed(2)}, max ${share.max.toFixed(2)}`,
    },
    {
      label: `target ≥ ${TARGET * 100} % of bare`,
      value: share.median >= TARGET ? 'pass' : 'FAIL',
      unit: '',
      note: `${(share.median * 100).toFixed(0)} %`,
    },
    {
      label: 'store, each append awaited (median)',
      value: perSec(storeOne.median),
      unit: 'events/s',
      note: 'one commit and one fsync per event',
    },
    {
      label: 'bare one-fsync-per-row insert (median)',
      value: perSec(bareOne.median),
      unit: 'rows/s',
      note: 'baseline',
    },
    {
      label: 'store / bare, one at a time',
      value: summarize(oneByOne.map((r) => r.store / r.bare)).median,
      unit: '×',
    },
    {
      label: 'store: group commit / one at a time',
      value: ratio(store.median, storeOne.median),
      unit: '×',
    },
  ];
}
