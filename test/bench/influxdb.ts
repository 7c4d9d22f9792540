import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import type { InfluxSinkReport } from '../../bridges/influxdb/influx-sink.js';
import { eventPoints } from '../../bridges/influxdb/points.js';
import { SEVERITIES, type NewEvent } from '../../src/core/events.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { startInfluxd } from '../helpers/influxd.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { runUnderLauncher } from './agent-process.js';
import { runBaseline } from './baseline.js';
import { loadNow, median, repeat, summarize, type Benchmark, type Figure } from './framework.js';

/**
 * Issue 19 point 4: points per second from the event store to a real influxd 1.6, through
 * the InfluxDB sink (its cursor, its batches, up to two requests in flight) in a process of its own
 * under the agent's launcher (influx-drain.ts), beside a bare
 * `influx` client writing the very same points with the same batch size from a file, in a
 * process of its own under plain node (baselines/influx-writer.ts). Each run writes to a
 * database of its own, so neither side overwrites what the other wrote.
 */

const EVENTS = 50_000;
const BATCH = 1000;
const RUNS = 3;
const TARGET = 0.8;

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

/**
 * Seconds until the sink, in a process of its own under the agent's launcher
 * (influx-drain.ts), has every stored event in InfluxDB, from a fresh cursor.
 */
async function drain(root: string, dataDir: string, url: string, database: string, last: number) {
  const script = join(root, '.bench-build', 'test', 'bench', 'influx-drain.js');
  const { seconds, report } = await runUnderLauncher<{
    seconds: number;
    report: InfluxSinkReport;
  }>(root, script, [dataDir, url, database, String(BATCH), String(last)]);
  if (report.runner.failures > 0 || report.set_aside > 0) {
    throw new Error(`not a clean run: ${JSON.stringify(report)}`);
  }
  // Every event is in InfluxDB, once: the figure counts written points, not skipped ones.
  const influx = new InfluxDB({ host: '127.0.0.1', port: Number(new URL(url).port), database });
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
    `sink (batches of ${BATCH}, up to two requests in flight) in a process of its own under the agent's launcher, beside a bare influx client writing the same points ` +
    `with the same batch size from its own process; target ≥ ${TARGET} × bare`,
  async run(ctx) {
    const dir = await makeTempDir('bench-influx');
    const server = await startInfluxd();
    try {
      // Room for every event: the default bound would drop the oldest before they are read.
      const dataDir = join(dir, 'data');
      const store = SqliteEventStore.open({
        dataDir,
        node: 'bench-site',
        maxBytes: 256 * 1024 * 1024,
      });
      const file = join(dir, 'points.jsonl');
      let last: number;
      let points: number;
      try {
        for (let i = 0; i < EVENTS; i += 10_000) await store.appendMany(events(10_000, i));
        const stats = await store.stats();
        if (stats.count !== EVENTS)
          throw new Error(`the store holds ${stats.count} events, not ${EVENTS}`);
        last = stats.lastSeq;
        points = await exportPoints(store, file, last);
      } finally {
        // Closed before the sink's process opens the same file: one writer at a time.
        await store.close();
      }
      const runs = await repeat(RUNS, async (i): Promise<Run> => {
        const agentS = await drain(ctx.root, dataDir, server.url, `agent_${i}`, last);
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
