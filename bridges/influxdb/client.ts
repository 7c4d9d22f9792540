import { InfluxDB, type IWriteOptions } from 'influx';
// The `influx` package's request pool (its `writePoints` sends through one): timeouts,
// host backoff and the RequestError with InfluxDB's answer, for a body of line protocol
// the sink writes itself (line-protocol.ts). Not re-exported by the package's index.
import { Pool } from 'influx/lib/src/pool.js';
import type { InfluxdbConfig } from './config.js';

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
