import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { OutpostError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { HealthApi, type AgentHealth } from '../../../src/http/health-api.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';

function get(
  port: number,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const T0 = Date.parse('2026-11-22T00:00:00Z');
const obs = (name: string, over: Partial<ContainerObservation> = {}): ContainerObservation => ({
  host: 'nas',
  key: name,
  id: 'a'.repeat(64),
  name,
  image: 'img',
  state: 'running',
  health: 'none',
  exitCode: null,
  restartCount: 0,
  startedAt: null,
  finishedAt: null,
  uptimeMs: null,
  oomKilled: false,
  error: null,
  labels: {},
  critical: false,
  observedAt: T0,
  ...over,
});

describe('health API', () => {
  const apis: HealthApi[] = [];
  afterEach(async () => {
    await Promise.all(apis.splice(0).map((a) => a.stop()));
  });

  async function serve(agent?: () => AgentHealth) {
    const tracker = new ContainerTracker({
      clock: new ManualClock(T0),
      log: silentLogger(),
      downAfterMs: 0,
      cooldownMs: 0,
      onEvent: () => undefined,
    });
    const api = new HealthApi({
      listen: { host: '127.0.0.1', port: 0 },
      log: silentLogger(),
      reports: [{ path: 'services', report: () => tracker.servicesReport() }],
      ...(agent ? { agent } : {}),
    });
    apis.push(api);
    await api.start();
    return { api, tracker, port: api.address()!.port };
  }

  it('serves the services report from what the tracker holds', async () => {
    const { tracker, port } = await serve();
    tracker.apply({ kind: 'host', host: 'nas', status: 'ok', at: T0 });
    tracker.apply({
      kind: 'snapshot',
      host: 'nas',
      containers: [obs('db'), obs('web', { state: 'exited', exitCode: 1 })],
      at: T0,
    });
    const res = await get(port, '/api/health/services');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toEqual({
      timestamp: '2026-11-22T00:00:00.000Z',
      summary: { total: 2, ok: 1, down: 1, unknown: 0 },
      services: [
        { host: 'nas', name: 'db', status: 'ok', message: 'running', critical: false },
        {
          host: 'nas',
          name: 'web',
          status: 'down',
          message: 'exited (exit code 1)',
          critical: false,
        },
      ],
      hosts: [{ host: 'nas', status: 'ok', message: null }],
    });
  });

  it('answers /healthz with 200 when the agent is fine and 503 when not', async () => {
    let ok = true;
    const { port } = await serve(() => ({ ok, mqtt: ok ? 'connected' : 'down' }));
    const fine = await get(port, '/healthz');
    expect(fine.status).toBe(200);
    expect(JSON.parse(fine.body)).toMatchObject({ ok: true, mqtt: 'connected', uptime_s: 0 });
    ok = false;
    expect((await get(port, '/healthz')).status).toBe(503);
  });

  it('refuses other paths and methods', async () => {
    const { port } = await serve();
    expect((await get(port, '/nope')).status).toBe(404);
    expect((await get(port, '/healthz', 'POST')).status).toBe(405);
    expect((await get(port, '/healthz?x=1')).status).toBe(200);
    const head = await get(port, '/healthz', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('answers 500 when building the report fails, and keeps serving', async () => {
    let fail = true;
    const api = new HealthApi({
      listen: { host: '127.0.0.1', port: 0 },
      log: silentLogger(),
      reports: [
        {
          path: 'services',
          report: () => {
            if (fail) throw new Error('boom');
            return { services: [] };
          },
        },
      ],
    });
    apis.push(api);
    await api.start();
    const port = api.address()!.port;
    expect((await get(port, '/api/health/services')).status).toBe(500);
    fail = false;
    expect((await get(port, '/api/health/services')).status).toBe(200);
  });

  it('fails to start with a clear error when the port is taken, and stops cleanly', async () => {
    const { port, api } = await serve();
    const second = new HealthApi({
      listen: { host: '127.0.0.1', port },
      log: silentLogger(),
      reports: [],
    });
    const err = await second.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutpostError);
    expect((err as OutpostError).code).toBe('HTTP_LISTEN');
    expect((err as OutpostError).message).toMatch(
      new RegExp(`^http.listen 127.0.0.1:${port}: .*EADDRINUSE`),
    );
    await api.stop();
    await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  describe('bound off loopback', () => {
    const TOKEN = 'alice-token-0123456789';
    // The same HealthApi as on 0.0.0.0, told its listener is not loopback (`open: false`):
    // the test itself stays on 127.0.0.1.
    async function guarded(users = [{ name: 'alice', token: TOKEN }]) {
      const api = new HealthApi({
        listen: { host: '127.0.0.1', port: 0 },
        log: silentLogger(),
        reports: [{ path: 'services', report: () => ({ services: [{ name: 'secret-db' }] }) }],
        agent: () => ({ ok: true, mqtt: 'connected', broker: 'nas.lan' }),
        open: false,
        users,
      });
      apis.push(api);
      await api.start();
      return api.address()!.port;
    }

    it('refuses the reports without a user token, and names nothing it serves', async () => {
      const port = await guarded();
      for (const path of ['/api/health/services', '/api/health/nope']) {
        const res = await get(port, path);
        expect(res.status).toBe(401);
        expect(res.body).toContain('Authorization: Bearer <token>');
        expect(res.body).not.toContain('secret-db');
      }
      const wrong = await get(port, '/api/health/services', 'GET', {
        authorization: 'Bearer not-the-token-at-all',
      });
      expect([wrong.status, JSON.parse(wrong.body)]).toEqual([
        401,
        { error: 'wrong token; expected "Authorization: Bearer <token>" of a user in http.users' },
      ]);
      const basic = await get(port, '/api/health/services', 'GET', { authorization: TOKEN });
      expect(basic.status).toBe(401);
    });

    it("serves the reports to a user's bearer token", async () => {
      const port = await guarded();
      const auth = { authorization: `Bearer ${TOKEN}` };
      const res = await get(port, '/api/health/services', 'GET', auth);
      expect([res.status, JSON.parse(res.body)]).toEqual([
        200,
        { services: [{ name: 'secret-db' }] },
      ]);
      expect((await get(port, '/api/health/nope', 'GET', auth)).status).toBe(404);
    });

    it('keeps /healthz open for liveness, with no detail for an anonymous caller', async () => {
      const port = await guarded();
      const anon = await get(port, '/healthz');
      expect([anon.status, JSON.parse(anon.body)]).toEqual([200, { ok: true }]);
      const user = await get(port, '/healthz', 'GET', { authorization: `Bearer ${TOKEN}` });
      expect(JSON.parse(user.body)).toMatchObject({ ok: true, broker: 'nas.lan', uptime_s: 0 });
    });

    it('with no users at all, refuses every report', async () => {
      const port = await guarded([]);
      const res = await get(port, '/api/health/services', 'GET', {
        authorization: `Bearer ${TOKEN}`,
      });
      expect(res.status).toBe(401);
    });
  });
});
