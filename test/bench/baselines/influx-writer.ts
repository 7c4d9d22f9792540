import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { InfluxDB, type IPoint } from 'influx';
import { printResult } from '../baseline.js';

/**
 * The InfluxDB bench's baseline (issue 19 point 4): a bare `influx` client, as a tool
 * would write, under plain node in its own process. It writes every point of FILE (one
 * JSON IPoint a line, exactly the points the agent writes for the same events, with their
 * nanosecond timestamps) to DATABASE at URL in requests of BATCH points, one request in
 * flight as the agent does, and prints `{ seconds, points }`: from the first request to
 * the last answer. The file is read before the clock starts.
 *
 * usage: node influx-writer.js URL DATABASE BATCH FILE
 */

async function load(file: string): Promise<IPoint[]> {
  const out: IPoint[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') out.push(JSON.parse(line) as IPoint);
  return out;
}

async function main([url, database, batchArg, file]: string[]): Promise<void> {
  if (!url || !database || !batchArg || !file) {
    throw new Error('usage: influx-writer URL DATABASE BATCH FILE');
  }
  const batch = Number(batchArg);
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new Error(`batch ${batchArg}: expected a positive integer`);
  }
  const points = await load(file);
  const u = new URL(url);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database });
  await influx.createDatabase(database);
  const t0 = performance.now();
  for (let i = 0; i < points.length; i += batch) {
    await influx.writePoints(points.slice(i, i + batch), { precision: 'n', database });
  }
  printResult({ seconds: (performance.now() - t0) / 1000, points: points.length });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
