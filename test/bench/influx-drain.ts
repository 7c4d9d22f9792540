import { performance } from 'node:perf_hooks';
import { InfluxSink } from '../../bridges/influxdb/influx-sink.js';
import { influxClient, lineWriter } from '../../bridges/influxdb/client.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { printResult } from './baseline.js';

/**
 * The InfluxDB bench's agent side (issue 19 point 4), in a process of its own started under
 * the agent's launcher flags and malloc environment: the bench process holds the 50,000
 * events it generated and the points it exported, and the sink's collections there were
 * not the agent's. It opens the bench's store, drains every event through the InfluxDB
 * sink from a fresh cursor (named after DATABASE) and prints `{ seconds, report }`: from
 * the sink's start until it delivered LAST. The bench checks what InfluxDB holds.
 *
 * usage: node <launcher flags> influx-drain.js DATA_DIR URL DATABASE BATCH LAST
 */

const log = silentLogger();

async function main([dataDir, url, database, batchArg, lastArg]: string[]): Promise<void> {
  if (!dataDir || !url || !database || !batchArg || !lastArg) {
    throw new Error('usage: influx-drain DATA_DIR URL DATABASE BATCH LAST');
  }
  const batch = Number(batchArg);
  const last = Number(lastArg);
  const store = SqliteEventStore.open({ dataDir, node: 'bench-site', maxBytes: 256 * 1024 * 1024 });
  try {
    const section = {
      url,
      database,
      batch_size: batch,
      flush_interval: 1000,
      sample_interval: 0,
      request_timeout: 30_000,
      retry_min: 1000,
      retry_max: 1000,
    };
    const influx = influxClient(section);
    await influx.createDatabase(database);
    const sink = new InfluxSink({
      store,
      // A cursor of its own per run (named after its database): each run drains every event.
      cursor: `bench-${database}`,
      write: lineWriter(section),
      options: { precision: 'n', database },
      batchSize: batch,
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
    printResult({ seconds, report });
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
