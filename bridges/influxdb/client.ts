import { InfluxDB } from 'influx';
import type { InfluxdbConfig } from './config.js';

/**
 * The `influx` client for the section: the 1.x API, which 2.x serves with a DBRP mapping
 * and v1 credentials, and 3.x with a token as the password (README "InfluxDB history").
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
