import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Watchdog, type WatchdogState } from '../../../src/capabilities/watchdog/watchdog.js';
import { commandProbe, httpProbe, tcpProbe } from '../../../src/collectors/watchdog/probes.js';
import { silentLogger } from '../../../src/core/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { getFreePort, LOOPBACK } from '../../helpers/ports.js';
import { liveGroupMembers, processesWithArg } from '../../helpers/proc-fs.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function listening<S extends Server | HttpServer>(server: S, host = LOOPBACK): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  cleanup.push(() => (server.listening ? close(server) : Promise.resolve()));
  return server;
}

function portOf(server: Server | HttpServer): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('not listening');
  return a.port;
}

const never = new AbortController().signal;

describe('tcp check', () => {
  it('is up while something listens, down once it is closed', async () => {
    const accepted: number[] = [];
    const server = await listening(createServer((s) => (accepted.push(1), s.destroy())));
    const port = portOf(server);
    const probe = tcpProbe(LOOPBACK, port);
    expect(await probe(never)).toEqual({ ok: true, message: `connected to 127.0.0.1:${port}` });
    await close(server);
    const r = await probe(never);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('ECONNREFUSED');
  });

  it('speaks IPv6 loopback', async () => {
    const server = await listening(
      createServer((s) => s.destroy()),
      '::1',
    );
    const port = portOf(server);
    expect(await tcpProbe('::1', port)(never)).toEqual({
      ok: true,
      message: `connected to [::1]:${port}`,
    });
  });

  it('is down on a port nothing listens on, and gives up when aborted', async () => {
    const r = await tcpProbe(LOOPBACK, await getFreePort())(never);
    expect(r.ok).toBe(false);
    const ctrl = new AbortController();
    ctrl.abort();
    // Aborted before the connect completes: the probe answers at once.
    expect((await tcpProbe(LOOPBACK, await getFreePort())(ctrl.signal)).ok).toBe(false);
  });
});

describe('http check', () => {
  it('is up on 2xx only; a redirect or an error status is down', async () => {
    const server = await listening(
      createHttpServer((req, res) => {
        if (req.url === '/ok') res.writeHead(204).end();
        else if (req.url === '/moved') res.writeHead(302, { location: '/ok' }).end();
        else res.writeHead(503, 'Service Unavailable').end('down');
      }),
    );
    const base = `http://${LOOPBACK}:${portOf(server)}`;
    expect(await httpProbe(`${base}/ok`)(never)).toEqual({
      ok: true,
      message: 'HTTP 204 No Content',
    });
    expect(await httpProbe(`${base}/moved`)(never)).toMatchObject({ ok: false });
    expect(await httpProbe(`${base}/health`)(never)).toEqual({
      ok: false,
      message: 'HTTP 503 Service Unavailable',
    });
    await close(server);
    const gone = await httpProbe(`${base}/ok`)(never);
    expect(gone.ok).toBe(false);
    expect(gone.message).toContain('ECONNREFUSED');
  });

  it('gives up when aborted (a server that never answers)', async () => {
    const server = await listening(createHttpServer(() => undefined));
    const ctrl = new AbortController();
    const pending = httpProbe(`http://${LOOPBACK}:${portOf(server)}/`)(ctrl.signal);
    ctrl.abort();
    expect((await pending).ok).toBe(false);
    server.closeAllConnections();
  });
});

describe('command check', () => {
  it('is up on exit 0 and down otherwise, saying what the command said', async () => {
    expect(await commandProbe(['true'])(never)).toEqual({ ok: true, message: 'exit 0' });
    expect(await commandProbe(['false'])(never)).toEqual({ ok: false, message: 'exit 1' });
    expect(
      await commandProbe(['sh', '-c', 'echo first >&2; echo "not active" >&2; exit 3'])(never),
    ).toEqual({ ok: false, message: 'exit 3: not active' });
  });

  it('runs argv without a shell: metacharacters are plain words', async () => {
    // Through a shell this would succeed (the `;` would start `true`); as argv it is one word.
    const r = await commandProbe(['false;', 'true'])(never);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('ENOENT');
    expect(await commandProbe(['test', '$(true)', '=', '$(true)'])(never)).toEqual({
      ok: true,
      message: 'exit 0',
    });
  });

  it('kills the command when aborted', async () => {
    const ctrl = new AbortController();
    const pending = commandProbe(['sleep', '30'])(ctrl.signal);
    ctrl.abort();
    const r = await pending;
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/abort/i);
  });

  it('cut at its timeout, fails and leaves no process of its group alive', async () => {
    // A shell with a child: the `sleep` is what outlived the timeout before (issue #16).
    const marker = `outpost-hung-${randomUUID()}`;
    const states: WatchdogState[] = [];
    const wd = new Watchdog({
      checks: [
        {
          id: 'hung',
          class: 'local',
          failAfter: 1,
          timeoutMs: 1000,
          probe: commandProbe(['sh', '-c', `sleep 30; echo ${marker}`]),
        },
      ],
      intervalMs: 3_600_000,
      states: { set: (_t, v) => (states.push(v as WatchdogState), Promise.resolve()) },
      stateTopic: 'outpost/edge/watchdog',
      record: () => undefined,
      log: silentLogger(),
    });
    cleanup.push(() => wd.stop());
    await wd.start();
    const [leader] = await eventually(() => {
      const found = processesWithArg(marker);
      expect(found).toHaveLength(1);
      return found;
    });
    // The shell leads a group of its own, with its sleep in it.
    const group = await eventually(() => {
      const members = liveGroupMembers(leader!);
      expect(members.length).toBeGreaterThanOrEqual(2);
      return members;
    });
    expect(group).toContain(leader);
    await wd.idle();
    expect(states.at(-1)!.checks.hung).toMatchObject({
      ok: false,
      message: 'timed out after 1000 ms',
      down: true,
    });
    await eventually(() => expect(liveGroupMembers(leader!)).toEqual([]));
  });

  it('says why when the program does not exist', async () => {
    const r = await commandProbe(['no-such-program-outpost'])(never);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('ENOENT');
  });
});
