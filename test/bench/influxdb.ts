import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InfluxSink } from '../../bridges/influxdb/influx-sink.js';
import { influxClient } from '../../bridges/influxdb/module.js';
import { eventPoints } from '../../bridges/influxdb/points.js';
import { systemClock } from '../../src/core/clock.js';
import { SEVERITIES, type NewEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/logger.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { startInfluxd } from '../helpers/influxd.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { runBaseline } from './baseline.js';
import { loadNow, median, repeat, summarize, type Benchmark, type Figure } from './framework.js';

/**
 * Issue 19 point 4: points per second from the event store to a real influxd 1.6, through
 * the InfluxDB sink (its cursor, its batches, one request in flight), beside a bare
 * `influx` client writing the very same points with the same batch size from a file, in a
 * process of its own under plain node (baselines/influx-writer.ts). Each run writes to a
 * database of its own, so neither side overwrites what the other wrote.
 */

const EVENTS = 50_000;
const BATCH = 1000;
const RUNS = 3;
const TARGET = 0.8;
const log = silentLogger();

function events(n: number, from: number): NewEvent[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const container = `container-${i % 40}`;
    return {
      type: i % 2 === 0 ? 'container_down' : 'container_recovered',
      severity: SEVERITIES[i % SEVERITIES.length]!,
      subject: `nas/${container}`,
      ts: Date.UTC(2026, 0, 1) + i * 10,
      data: {
        host: 'nas',
        container,
        title: `${container} down`,
        message: `nas/${container} has been down for 2 min: exited (137), ${i % 7} restarts`,
      },
    };
  });
}

/** The points of the first `n` stored events, one JSON IPoint a line: what the baseline writes. */
async function exportPoints(store: SqliteEventStore, file: string, n: number): Promise<number> {
  await store.registerSink('bench-export', { startAt: 'oldest' });
  const fh = await open(file, 'w');
  let points = 0;
  try {
    let after = 0;
    while (after < n) {
      const page = await store.readAfter('bench-export', 10_000, after);
      if (page.length === 0) throw new Error(`only ${after} of ${n} events stored`);
      let text = '';
      for (const e of page) {
        for (const p of eventPoints(e)) {
          text += `${JSON.stringify(p)}\n`;
          points++;
        }
      }
      await fh.write(text);
      after = page[page.length - 1]!.seq;
    }
  } finally {
    await fh.close();
  }
  return points;
}

/** Seconds until the sink has every stored event in InfluxDB, from a fresh cursor. */
async function drain(store: SqliteEventStore, url: string, database: string, last: number) {
  const influx = influxClient({
    url,
    database,
    batch_size: BATCH,
    flush_interval: 1000,
    sample_interval: 0,
    request_timeout: 30_000,
    retry_min: 1000,
    retry_max: 1000,
  });
  await influx.createDatabase(database);
  const sink = new InfluxSink({
    store,
    // A cursor of its own per run (named after its database): each run drains every event.
    cursor: `bench-${database}`,
    write: (points, options) => influx.writePoints(points, options),
    options: { precision: 'n', database },
    batchSize: BATCH,
    flushMs: 1000,
    retry: { initialMs: 1000, maxMs: 1000 },
    clock: systemClock,
    log,
  });
  const t0 = performance.now();
  await sink.start();
  while (sink.delivered < last) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  const report = sink.report();
  await sink.stop();
  if (report.runner.failures > 0 || report.set_aside > 0) {
    throw new Error(`not a clean run: ${JSON.stringify(report)}`);
  }
  // Every event is in InfluxDB, once: the figure counts written points, not skipped ones.
  const rows = (await influx.query('SELECT count("count") AS n FROM events')) as unknown as {
    n: number;
  }[];
  if (rows[0]?.n !== last) throw new Error(`InfluxDB holds ${rows[0]?.n} events, not ${last}`);
  return seconds;
}

interface Run {
  agentS: number;
  bareS: number;
  load: number;
}

export const influxdbWrite: Benchmark = {
  name: 'influxdb-write',
  description:
    `${EVENTS.toLocaleString('en')} stored events to a real influxd 1.6 through the InfluxDB ` +
    `sink (batches of ${BATCH}, one request in flight) beside a bare influx client writing the same points ` +
    `with the same batch size from its own process; target ≥ ${TARGET} × bare`,
  async run(ctx) {
    const dir = await makeTempDir('bench-influx');
    const server = await startInfluxd();
    try {
      // Room for every event: the default bound would drop the oldest before they are read.
      const store = SqliteEventStore.open({
        dataDir: join(dir, 'data'),
        node: 'bench-site',
        maxBytes: 256 * 1024 * 1024,
      });
      try {
        for (let i = 0; i < EVENTS; i += 10_000) await store.appendMany(events(10_000, i));
        const { lastSeq: last, count } = await store.stats();
        if (count !== EVENTS) throw new Error(`the store holds ${count} events, not ${EVENTS}`);
        const file = join(dir, 'points.jsonl');
        const points = await exportPoints(store, file, last);
        const runs = await repeat(RUNS, async (i): Promise<Run> => {
          const agentS = await drain(store, server.url, `agent_${i}`, last);
          ctx.log(`run ${i + 1}: sink ${(points / agentS).toFixed(0)} points/s`);
          const r = await runBaseline<{ seconds: number; points: number }>(
            ctx.root,
            'influx-writer',
            [server.url, `bare_${i}`, String(BATCH), file],
          );
          if (r.points !== points)
            throw new Error(`the bare client wrote ${r.points}, not ${points}`);
          ctx.log(`run ${i + 1}: bare ${(points / r.seconds).toFixed(0)} points/s`);
          return { agentS, bareS: r.seconds, load: loadNow() };
        });
        return figures(runs, points);
      } finally {
        await store.close();
      }
    } finally {
      await server.stop();
      await removeTempDir(dir);
    }
  },
};

const spreadOf = (s: { min: number; max: number; runs: number }, digits: number) =>
  `min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, ${s.runs} runs`;

function figures(runs: readonly Run[], points: number): Figure[] {
  const load = median(runs.map((r) => r.load));
  const agent = summarize(runs.map((r) => points / r.agentS));
  const bare = summarize(runs.map((r) => points / r.bareS));
  const share = summarize(runs.map((r) => r.bareS / r.agentS));
  return [
    {
      label: `InfluxDB sink, ${points.toLocaleString('en')} points from the store (median)`,
      value: Math.round(agent.median),
      unit: 'points/s',
      note: spreadOf(agent, 0),
      load,
    },
    {
      label: 'bare influx client, same points, own process (median)',
      value: Math.round(bare.median),
      unit: 'points/s',
      note: `${spreadOf(bare, 0)}; baseline`,
      load,
    },
    {
      label: 'sink / bare (median of per-run ratios)',
      value: Number(share.median.toFixed(2)),
      unit: '×',
      note: spreadOf(share, 2),
      load,
    },
    {
      label: `target ≥ ${TARGET} × bare`,
      value: share.median >= TARGET ? 'pass' : 'FAIL',
      unit: '',
      load,
    },
  ];
}
