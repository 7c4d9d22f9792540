import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServers, requireBinary } from '../../helpers/apt.js';
import { getFreePorts } from '../../helpers/ports.js';
import { isPidAlive, startProcess } from '../../helpers/process.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const node = process.execPath;

describe('startProcess', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('process-test');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('waits for a TCP port, logs output to the temp dir and stops by PID', async () => {
    const [port] = await getFreePorts(1);
    const script = `console.log('booting'); setTimeout(() => require('net').createServer().listen(${port}, '127.0.0.1'), 200)`;
    const server = await startProcess({
      name: 'tcp-server',
      command: node,
      args: ['-e', script],
      dir,
      ready: { kind: 'tcp', port: port! },
    });
    expect(isPidAlive(server.pid)).toBe(true);
    expect(await server.logTail()).toContain('booting');
    await server.stop();
    expect(server.exitStatus).toBe('signal SIGTERM');
    expect(isPidAlive(server.pid)).toBe(false);
  });

  it('fails with the log tail when the process exits before it is ready', async () => {
    const start = startProcess({
      name: 'crasher',
      command: node,
      args: ['-e', 'console.error("bad config line 3"); process.exit(3)'],
      dir,
      ready: { kind: 'predicate', description: 'never', check: () => Promise.resolve(false) },
    });
    await expect(start).rejects.toThrow(/exited \(exit code 3\)[\s\S]*bad config line 3/);
  });

  it('fails with the log tail on timeout and kills the process', async () => {
    const start = startProcess({
      name: 'sleeper',
      command: node,
      args: ['-e', 'console.log("still starting"); setInterval(() => {}, 1000)'],
      dir,
      ready: { kind: 'unix-http', socketPath: join(dir, 'missing.sock') },
      timeoutMs: 3000,
    });
    await expect(start).rejects.toThrow(/not ready after 3000 ms[\s\S]*still starting/);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const server = await startProcess({
      name: 'stubborn',
      command: node,
      args: [
        '-e',
        'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)',
      ],
      dir,
      // Ready once the SIGTERM handler is installed, which the log line follows.
      ready: {
        kind: 'predicate',
        description: 'prints up',
        check: async () => (await readFile(join(dir, 'stubborn.log'), 'utf8')).includes('up'),
      },
    });
    await server.stop(300);
    expect(server.exitStatus).toBe('signal SIGKILL');
    expect(isPidAlive(server.pid)).toBe(false);
  });
});

describe('apt helpers', () => {
  it('finds installed servers without installing anything', async () => {
    await ensureServers(['mosquitto', 'sshd', 'influxd', 'dockerd', 'podman']);
    expect(await requireBinary('sshd')).toBe('/usr/sbin/sshd');
  });

  it('names the apt command for a missing binary', async () => {
    await expect(requireBinary('outpost-no-such-binary')).rejects.toThrow(
      /apt-get install -y --no-install-recommends outpost-no-such-binary/,
    );
  });
});

describe('getFreePorts', () => {
  it('returns distinct ports', async () => {
    const ports = await getFreePorts(5);
    expect(new Set(ports).size).toBe(5);
  });
});
