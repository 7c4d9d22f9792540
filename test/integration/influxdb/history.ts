import type { InfluxDB } from 'influx';
import { influxClient, lineWriter } from '../../../bridges/influxdb/client.js';
import { InfluxSink, type InfluxSinkOptions } from '../../../bridges/influxdb/influx-sink.js';
import { systemClock } from '../../../src/core/clock.js';
import type { Logger } from '../../../src/core/logger.js';
import type { EventStore } from '../../../src/store/event-store.js';
import type { InfluxdServer } from '../../helpers/influxd.js';

/** The bridge's section for a test server. */
export function sectionFor(server: InfluxdServer, database: string) {
  return {
    url: server.url,
    database,
    batch_size: 1000,
    flush_interval: 1000,
    sample_interval: 0,
    request_timeout: 5_000,
    retry_min: 100,
    retry_max: 1000,
  };
}

/** The bridge's client for a test server, as the module builds it from config. */
export function clientFor(server: InfluxdServer, database: string): InfluxDB {
  return influxClient(sectionFor(server, database));
}

/** The sink as the module wires it, with short retries so an outage ends quickly. */
export function sinkFor(
  store: EventStore,
  server: InfluxdServer,
  influx: InfluxDB,
  database: string,
  log: Logger,
  batchSize = 50,
  onRefused?: InfluxSinkOptions['onRefused'],
): InfluxSink {
  return new InfluxSink({
    store,
    write: lineWriter(sectionFor(server, database)),
    createDatabase: () => influx.createDatabase(database),
    options: { precision: 'n', database },
    batchSize,
    flushMs: 50,
    retry: { initialMs: 100, maxMs: 1000 },
    clock: systemClock,
    log,
    ...(onRefused ? { onRefused } : {}),
  });
}

/** One column of every row of a query, in time order. */
export async function column(influx: InfluxDB, q: string, name: string): Promise<unknown[]> {
  const rows = (await influx.query(q)) as unknown as Record<string, unknown>[];
  return rows.map((r) => r[name]);
}
