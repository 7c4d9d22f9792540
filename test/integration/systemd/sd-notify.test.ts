import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import unixDgram from 'unix-dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnAgent, LAUNCHER, type AgentProcess } from '../../helpers/agent.js';
import { findBinary } from '../../helpers/apt.js';
import { skipWithout } from '../../helpers/capability.js';
import { eventually } from '../../helpers/eventually.js';
import { getFreePort } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * The agent under systemd's notification protocol, as it ships (through the launcher):
 * this test binds the unix datagram socket systemd would, hands its path over as
 * NOTIFY_SOCKET with a watchdog, and reads what arrives.
 */

const execFileAsync = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Datagram {
  fields: Map<string, string>;
}

/** A bound notify socket; every datagram, split into its KEY=value lines. */
async function notifySocket(): Promise<{ path: string; received: Datagram[] }> {
  const dir = await makeTempDir('notify');
  const path = join(dir, 'notify.sock');
  const received: Datagram[] = [];
  const socket = unixDgram.createSocket('unix_dgram', (msg) => {
    const fields = new Map<string, string>();
    for (const line of msg.toString().split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
    }
    received.push({ fields });
  });
  await new Promise<void>((ok, fail) => {
    socket.once('listening', ok);
    socket.once('error', fail);
    socket.bind(path);
  });
  cleanups.push(async () => {
    socket.close();
    await removeTempDir(dir);
  });
  return { path, received };
}

async function agent(port: number, env: NodeJS.ProcessEnv): Promise<AgentProcess> {
  const a = await spawnAgent(
    (dir) => `node: { id: sd }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`,
    env,
  );
  cleanups.push(() => a.cleanup());
  return a;
}

const has = (d: Datagram, key: string, value?: string) =>
  d.fields.has(key) && (value === undefined || d.fields.get(key) === value);

describe('systemd notifications (Type=notify, WatchdogSec=)', { timeout: 120_000 }, () => {
  it('sends READY=1 once running, pets the watchdog repeatedly, and STOPPING=1 on SIGTERM', async () => {
    const sock = await notifySocket();
    // 1 s: pets every 500 ms, so several arrive within a short test.
    const a = await agent(await getFreePort(), {
      NOTIFY_SOCKET: sock.path,
      WATCHDOG_USEC: '1000000',
    });
    await a.running();
    const ready = await eventually(() => {
      const d = sock.received.find((r) => has(r, 'READY', '1'));
      expect(d, 'READY=1').toBeDefined();
      return d!;
    });
    expect(ready.fields.get('STATUS')).toMatch(/^running \(node sd, broker embedded\)$/);
    // The first STATUS= came before READY=1: systemd shows "starting" meanwhile.
    const readyAt = sock.received.indexOf(ready);
    expect(
      sock.received.slice(0, readyAt).some((d) => d.fields.get('STATUS')?.startsWith('starting')),
    ).toBe(true);
    // Pets keep coming after READY=1, from the running event loop.
    await eventually(() =>
      expect(
        sock.received.slice(readyAt).filter((d) => has(d, 'WATCHDOG', '1')).length,
      ).toBeGreaterThanOrEqual(3),
    );

    expect((await a.stop('SIGTERM')).code).toBe(0);
    const stopping = sock.received.find((d) => has(d, 'STOPPING', '1'));
    expect(stopping?.fields.get('STATUS')).toBe('stopping (SIGTERM)');
    expect(sock.received.indexOf(stopping!)).toBeGreaterThan(readyAt);
  });

  it('pets no watchdog that systemd set for another process (WATCHDOG_PID)', async () => {
    const sock = await notifySocket();
    const a = await agent(await getFreePort(), {
      NOTIFY_SOCKET: sock.path,
      WATCHDOG_USEC: '200000',
      WATCHDOG_PID: '1',
    });
    await a.running();
    await eventually(() => expect(sock.received.some((d) => has(d, 'READY', '1'))).toBe(true));
    expect(sock.received.some((d) => has(d, 'WATCHDOG'))).toBe(false);
    expect((await a.stop('SIGTERM')).code).toBe(0);
    // Everything the agent sent has arrived once STOPPING=1 has: not one pet among it.
    expect(sock.received.some((d) => has(d, 'STOPPING', '1'))).toBe(true);
    expect(sock.received.some((d) => has(d, 'WATCHDOG'))).toBe(false);
  });
});

const analyze = await findBinary('systemd-analyze');
describe.skipIf(
  skipWithout(
    'systemd-analyze verify',
    analyze ? undefined : 'no systemd-analyze (Debian package systemd)',
  ),
)('docker/outpost.service', () => {
  it("passes systemd-analyze verify without a warning, pointed at this checkout's launcher", async () => {
    const dir = await makeTempDir('unit');
    cleanups.push(() => removeTempDir(dir));
    // verify checks that ExecStart's binary exists: the checkout's launcher stands in
    // for the installed /usr/local/bin/outpost.
    const text = await readFile(join(ROOT, 'docker', 'outpost.service'), 'utf8');
    expect(text).toMatch(/^ExecStart=\/usr\/local\/bin\/outpost run$/m);
    const unit = join(dir, 'outpost.service');
    await writeFile(
      unit,
      text.replace(/^ExecStart=\/usr\/local\/bin\/outpost /m, `ExecStart=${LAUNCHER} `),
    );
    // An unknown key or a bad value is only a warning (exit 0): any output fails the test.
    const { stdout, stderr } = await execFileAsync(analyze!, ['verify', unit]);
    expect(`${stdout}${stderr}`).toBe('');
  });
});
