import { InfluxDB, type IWriteOptions } from 'influx';
// The `influx` package's request pool (its `writePoints` sends through one): timeouts,
// host backoff and the RequestError with InfluxDB's answer, for a body of line protocol
// the sink writes itself (line-protocol.ts). Not re-exported by the package's index.
import { Pool } from 'influx/lib/src/pool.js';
import type { CapabilityModule } from '../../src/capabilities/capability.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { InfluxdbConfig } from './config.js';
import { InfluxSink } from './influx-sink.js';
import { REFUSED_EVENT, refusalAlert } from './refusal-alert.js';
import { StateSampler } from './sampler.js';

/**
 * InfluxDB history (issue 19): every event and a sample of the agent's states every
 * interval, written from the event store through the sink's own cursor. Needs the event
 * store; without one (it failed to open) the bridge says so and stays off.
 */
export const influxdbModule: CapabilityModule = {
  name: 'influxdb',
  events: [REFUSED_EVENT],
  create(ctx) {
    const section = ctx.config.influxdb;
    if (!section) return undefined;
    const log = ctx.log.child({ capability: 'influxdb' });
    if (!ctx.store || !ctx.record) {
      log.warn('InfluxDB history off: the event store is unavailable');
      return undefined;
    }
    const influx = influxClient(section);
    const sink = new InfluxSink({
      store: ctx.store,
      write: lineWriter(section),
      createDatabase: () => influx.createDatabase(section.database),
      options: {
        precision: 'n',
        database: section.database,
        ...(section.retention_policy ? { retentionPolicy: section.retention_policy } : {}),
      },
      batchSize: section.batch_size,
      flushMs: section.flush_interval,
      retry: { initialMs: section.retry_min, maxMs: section.retry_max },
      clock: ctx.clock,
      log,
      onRefused: refusalAlert((e) => ctx.bus.emit('event', e), ctx.clock),
    });
    const components: Component[] = [sink];
    if (section.sample_interval > 0) {
      const states = ctx.states;
      components.push(
        new StateSampler({
          root: ctx.root,
          hostIds: ctx.config.hosts.map((h) => h.id),
          states: () => states.current(),
          record: ctx.record,
          intervalMs: section.sample_interval,
          clock: ctx.clock,
        }),
      );
    }
    return {
      name: 'influxdb',
      components,
      health: { path: 'influxdb', report: () => sink.report() },
    };
  },
};

/**
 * The `influx` client for the section: the 1.x API, which 2.x serves with a DBRP mapping
 * and v1 credentials, and 3.x with a token as the password (docs/influxdb.md).
 * Its own retries are off: the sink retries with its backoff, from its cursor.
 */
export function influxClient(section: InfluxdbConfig): InfluxDB {
  const url = new URL(section.url);
  return new InfluxDB({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    path: url.pathname === '/' ? '' : url.pathname,
    database: section.database,
    ...(section.username !== undefined ? { username: section.username } : {}),
    ...(section.password !== undefined ? { password: section.password } : {}),
    pool: { maxRetries: 0, requestTimeout: section.request_timeout },
  });
}

/**
 * `POST /write` of a body of line protocol to the section's server, as the `influx`
 * package's `writePoints` sends the body it builds (same pool, query and auth): the sink
 * builds the lines itself, from the store's records, without `IPoint` objects (issue 19
 * point 4). Its own retries are off, as the client's.
 */
export function lineWriter(
  section: InfluxdbConfig,
): (body: Buffer, options: IWriteOptions) => Promise<void> {
  const url = new URL(section.url);
  const pool = new Pool({ maxRetries: 0, requestTimeout: section.request_timeout });
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  pool.addHost(`${url.protocol}//${url.host}${path}`);
  const auth =
    section.username !== undefined ? `${section.username}:${section.password ?? ''}` : undefined;
  return (body, options) =>
    pool.discard({
      method: 'POST',
      path: '/write',
      // Bytes: its types say string, but it takes any body `Buffer.from` and `req.write` do.
      body: body as unknown as string,
      query: {
        db: options.database ?? section.database,
        precision: options.precision ?? 'n',
        rp: options.retentionPolicy,
      },
      ...(auth !== undefined ? { auth } : {}),
    });
}
