import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureServers, requireBinary } from './apt.js';
import { getFreePorts, LOOPBACK, retryOnPortClash } from './ports.js';
import { startProcess, type ServerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/** An InfluxDB 1.6 with its HTTP API on 127.0.0.1, no auth. */
export interface InfluxdServer {
  /** http://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  dir: string;
  /** The server's pid (the last one started: a new one after `up`). */
  readonly pid: number;
  logFile: string;
  /** Stops the server and keeps its data: an outage. */
  down(): Promise<void>;
  /** Starts it again on the same ports with the same data. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts influxd with meta, data and WAL in a temp dir and random ports for both binds. */
export async function startInfluxd(): Promise<InfluxdServer> {
  await ensureServers(['influxd']);
  const influxd = await requireBinary('influxd');
  const dir = await makeTempDir('influxd');
  try {
    return await retryOnPortClash(async () => {
      const [httpPort, rpcPort] = await getFreePorts(2);
      const url = `http://${LOOPBACK}:${httpPort}`;
      const config = join(dir, 'influxdb.conf');
      await writeFile(config, renderConfig(dir, httpPort!, rpcPort!));
      const start = () =>
        startProcess({
          name: 'influxd',
          command: influxd,
          args: ['run', '-config', config],
          dir,
          ready: {
            kind: 'predicate',
            description: `GET ${url}/ping`,
            check: async () => (await fetch(`${url}/ping`)).status === 204,
          },
        });
      let proc: ServerProcess | undefined = await start();
      let pid = proc.pid;
      const logFile = proc.logFile;
      return {
        url,
        host: LOOPBACK,
        port: httpPort!,
        dir,
        get pid() {
          return pid;
        },
        logFile,
        down: async () => {
          await proc?.stop();
          proc = undefined;
        },
        up: async () => {
          proc ??= await start();
          pid = proc.pid;
        },
        stop: async () => {
          await proc?.stop();
          proc = undefined;
          await removeTempDir(dir);
        },
      };
    });
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

function renderConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-enabled = false
bind-address = "${LOOPBACK}:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "${LOOPBACK}:${httpPort}"
  auth-enabled = false
  log-enabled = false
[logging]
  level = "warn"
`;
}
