import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { EngineApi } from '../../../src/hosts/engine-api.js';
import { cannedRecord, fakeId } from '../../integration/containers/fake-engine.js';
import { failure } from '../../helpers/failure.js';

/**
 * EngineApi's own HTTP client over TCP on 127.0.0.1 (the unix-socket path runs against
 * real dockerd and podman in test/integration/containers): what it asks, and how it reads
 * the engine's answers and errors. The server answers as the Engine API documents
 * (https://docs.docker.com/reference/api/engine/): 204 for a done action, 304 when there
 * was nothing to do, `{"message": …}` with an error status.
 */

const A = fakeId('a');
const B = fakeId('b');
const requests: string[] = [];
let server: Server;
let api: EngineApi;

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  requests.push(`${req.method} ${url}`);
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (url === '/version') return json(200, { Version: '24.0.7', ApiVersion: '1.43' });
  if (url === '/containers/json?all=1') return json(200, [{ Id: A }, { Id: B }]);
  if (url === `/containers/${A}/json`) return json(200, cannedRecord('a'));
  if (url === `/containers/${B}/json`) return json(404, { message: `No such container: ${B}` });
  if (url === `/containers/${A}/start`) return void res.writeHead(304).end();
  if (url.startsWith(`/containers/${A}/stop`)) return void res.writeHead(204).end();
  if (url === `/containers/${B}/restart`) {
    return json(500, { message: 'cannot restart container: driver failed' });
  }
  if (url.startsWith('/events?')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID: A } })}\n`);
    return;
  }
  json(404, { message: `page not found: ${url}` });
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  api = new EngineApi({ url: `tcp://127.0.0.1:${port}`, timeoutMs: 5_000, clock: systemClock });
  return () => {
    server.closeAllConnections();
    server.close();
  };
});

describe('EngineApi over node:http (TCP, loopback)', () => {
  it('names its endpoint from the configured URL', () => {
    expect(api.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reads the engine version', async () => {
    expect(await api.version()).toBe('docker 24.0.7');
  });

  it('lists every container, inspects each, and skips one removed meanwhile', async () => {
    requests.length = 0;
    const records = await api.listAll();
    expect(records.map((r) => r.Id)).toEqual([A]);
    expect(requests.sort()).toEqual(
      [
        `GET /containers/json?all=1`,
        `GET /containers/${A}/json`,
        `GET /containers/${B}/json`,
      ].sort(),
    );
  });

  it('answers undefined for a container the engine does not know', async () => {
    expect(await api.inspect(B)).toBeUndefined();
  });

  it('takes 304 as done, passes the stop timeout as t, and reports an engine error', async () => {
    requests.length = 0;
    await api.control('start', A, { timeoutMs: 5_000 });
    await api.control('stop', A, { stopTimeoutS: 7, timeoutMs: 5_000 });
    expect(requests).toEqual([`POST /containers/${A}/start`, `POST /containers/${A}/stop?t=7`]);
    const err = await failure(api.control('restart', B, { timeoutMs: 5_000 }));
    expect(err.code).toBe('ENGINE_COMMAND_FAILED');
    expect(err.message).toBe(
      `${api.endpoint} POST /containers/${B.slice(0, 12)}/restart: engine answered 500: ` +
        'cannot restart container: driver failed',
    );
  });

  it('refuses an id that is not one before any request', async () => {
    requests.length = 0;
    const err = await failure(api.control('stop', '../../etc', { timeoutMs: 5_000 }));
    expect(err.code).toBe('ENGINE_BAD_OUTPUT');
    expect(requests).toEqual([]);
  });

  it('opens the container event stream with its filter', async () => {
    const abort = new AbortController();
    const stream = await api.events(abort.signal);
    const line = await new Promise<string>((resolve) =>
      stream.once('data', (c: Buffer) => resolve(c.toString())),
    );
    abort.abort();
    expect(JSON.parse(line)).toMatchObject({ Action: 'die', Actor: { ID: A } });
    const events = requests.filter((r) => r.startsWith('GET /events'));
    expect(decodeURIComponent(events.at(-1)!)).toBe('GET /events?filters={"type":["container"]}');
  });

  it('reports an engine that is not there as unreachable', async () => {
    const gone = new EngineApi({ url: 'tcp://127.0.0.1:1', timeoutMs: 5_000, clock: systemClock });
    const err = await failure(gone.version());
    expect(err.code).toBe('ENGINE_UNREACHABLE');
    expect(err.message).toMatch(/^tcp:\/\/127\.0\.0\.1:1 GET \/version: .*ECONNREFUSED/);
  });
});
