import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdServer } from '../../helpers/influxd.js';
import { isPidAlive } from '../../helpers/process.js';

describe('startInfluxd', () => {
  let influx: InfluxdServer;

  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('answers /ping as InfluxDB 1.6', async () => {
    const res = await fetch(`${influx.url}/ping`);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-influxdb-version')).toMatch(/^1\.6/);
  });

  it('writes and queries a point over the 1.x HTTP API', async () => {
    const q = (query: string) =>
      fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: query }) });
    expect((await q('CREATE DATABASE harness')).status).toBe(200);
    const write = await fetch(`${influx.url}/write?db=harness`, {
      method: 'POST',
      body: 'cpu,host=a value=0.5',
    });
    expect(write.status).toBe(204);
    const res = await q('SELECT value FROM harness.autogen.cpu');
    const body = (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
    expect(body.results[0]?.series?.[0]?.values[0]?.[1]).toBe(0.5);
  });

  it('stops by PID', async () => {
    const other = await startInfluxd();
    expect(other.port).not.toBe(influx.port);
    await other.stop();
    expect(isPidAlive(other.pid)).toBe(false);
  });
});
