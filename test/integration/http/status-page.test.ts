import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryActionStore } from '../../../src/commands/action-store.js';
import { Remediation } from '../../../src/commands/remediation.js';
import { systemClock } from '../../../src/core/clock.js';
import { EventBus } from '../../../src/core/event-bus.js';
import { silentLogger } from '../../../src/core/logger.js';
import { HealthApi, type HealthReport } from '../../../src/http/health-api.js';
import { StatusPage } from '../../../src/http/status/status-page.js';
import type { AgentEvents } from '../../../src/state/bus-events.js';
import { Incidents } from '../../../src/state/incidents.js';
import { readAudit } from '../../helpers/audit-file.js';
import { eventually } from '../../helpers/eventually.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { configWith, message, RecordingExecutor, ROOT, Wire } from '../../unit/commands/harness.js';

const TOKEN = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';

/**
 * The status page over real HTTP, in process, with a real remediation behind it (its
 * policy, action store, audit log): the executor is the only stand-in, for the engine.
 */
describe('the status page over HTTP', () => {
  let dir: string;
  let rem: Remediation;
  let exec: RecordingExecutor;
  let api: HealthApi;
  let page: StatusPage;
  let base: string;
  let logs: ReturnType<typeof memoryLogger>;
  const services = {
    services: [{ host: 'local', name: 'db', status: 'ok', message: 'running', critical: false }],
    hosts: [{ host: 'local', status: 'ok', message: null }],
  };
  const report: HealthReport = { path: 'services', report: () => services };

  beforeEach(async () => {
    dir = await makeTempDir('status-page');
    logs = memoryLogger();
    const bus = new EventBus<AgentEvents>(silentLogger());
    const config = configWith(dir, {
      policy: [{ action: 'restart_container', target: 'local/*', decision: 'approve' }],
      broker: { users: [{ username: 'ops', password: 'pw' }] },
      remediation: { approvers: ['web:alice', 'ops'] },
      http: { enabled: true, status_page: true, users: [{ name: 'alice', token: TOKEN }] },
    });
    exec = new RecordingExecutor();
    rem = await Remediation.create({
      ...{ config, root: ROOT, mqtt: new Wire(), clock: systemClock, log: silentLogger() },
      ...{ record: () => undefined, executors: [exec], store: new MemoryActionStore(), bus },
    });
    await rem.start();
    page = new StatusPage({
      users: [
        { name: 'alice', token: TOKEN },
        { name: 'bob', token: BOB },
      ],
      sources: {
        node: 'edge',
        hosts: [{ id: 'local', local: false }],
        reports: [report],
        mqttConnected: () => true,
        pending: () => rem.api.pending(),
        incidents: () => new Incidents().list(),
      },
      decide: (actionId, verdict, by) =>
        new Promise((answer) => bus.emit('decision', { actionId, verdict, by, answer })),
      clock: systemClock,
      log: logs.log,
      refreshMs: 50,
      maxClients: 1,
      heartbeatMs: 100,
    });
    await page.start();
    api = new HealthApi({
      listen: { host: '127.0.0.1', port: 0 },
      log: silentLogger(),
      reports: [],
      routes: [page],
    });
    await api.start();
    base = `http://127.0.0.1:${api.address()!.port}`;
  });

  afterEach(async () => {
    await page.stop();
    await api.stop();
    await rem.stop();
    await removeTempDir(dir);
  });

  /** A restart held for approval, asked for by `ops` over MQTT. */
  async function held(): Promise<string> {
    const a = await rem.router.handle(
      message('restart_container', { target: 'local/db' }, { sender: 'ops' }),
    );
    expect(a).toMatchObject({ status: 'pending' });
    return (a as { action_id: string }).action_id;
  }

  async function signIn(token = TOKEN): Promise<string> {
    const res = await fetch(`${base}/status/?token=${token}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/status/');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^outpost_status=[\w-]{40,}; Path=\/status\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
    );
    return cookie.split(';')[0]!;
  }

  const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;

  it('signs a browser in with ?token= once, then serves the page on the cookie, never cached or framed', async () => {
    const cookie = await signIn();
    const res = await fetch(`${base}/status/`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    const body = await res.text();
    expect(body).toContain('signed in as web:alice');
    expect(body).toMatch(/data-container="local\/db" data-status="ok"/);
    expect(JSON.stringify(logs.lines)).not.toContain(TOKEN);
  });

  it('refuses a wrong token, no token and a wrong bearer, and logs none of them', async () => {
    const wrong = await fetch(`${base}/status/?token=not-the-token-at-all`, {
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('That token is not valid.');
    expect((await fetch(`${base}/status/`)).status).toBe(401);
    expect((await fetch(`${base}/status/events`)).status).toBe(401);
    const bearer = await fetch(`${base}/status/state.json`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(bearer.status).toBe(401);
    expect(await bearer.json()).toEqual({ error: 'unauthorized: wrong token' });
    const ok = await fetch(`${base}/status/state.json`, {
      headers: { authorization: `Bearer ${BOB}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ node: 'edge', containers: [{ name: 'db' }] });
    expect(JSON.stringify(logs.lines)).not.toContain('not-the-token-at-all');
    expect(logs.lines.filter((l) => l.msg === 'status page refused')).toHaveLength(4);
  });

  it('approves as web:<user> through remediation, with the session CSRF token', async () => {
    const id = await held();
    const cookie = await signIn();
    const body = await (await fetch(`${base}/status/`, { headers: { cookie } })).text();
    expect(body).toContain(`action="actions/${id}/approve"`);
    const res = await fetch(`${base}/status/actions/${id}/approve`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: base,
        'sec-fetch-site': 'same-origin',
      },
      body: `csrf=${encodeURIComponent(csrfOf(body))}`,
    });
    expect(res.status).toBe(303);
    await eventually(() => expect(exec.runs.map((r) => r.target)).toEqual(['local/db']));
    const after = await (await fetch(`${base}/status/`, { headers: { cookie } })).text();
    expect(after).toContain(`Approved action ${id}`);
    expect(after).not.toContain(`actions/${id}/approve`);
    const audit = (await readAudit(dir)).filter((e) => e.kind === 'approval');
    expect(audit.map((e) => [e.who, e.origin, e.outcome])).toEqual([
      ['web:alice', 'api', 'approved'],
    ]);
  });

  it('refuses a cross-site POST, a missing CSRF token and a user who is not an approver', async () => {
    const id = await held();
    const cookie = await signIn();
    const post = (headers: Record<string, string>, body = '') =>
      fetch(`${base}/status/actions/${id}/approve`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const other = 'http://127.0.0.1:1';
    expect((await post({ origin: other, 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post({ origin: other })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ origin: base }, 'csrf=guessed')).status).toBe(403);
    const bob = await fetch(`${base}/status/actions/${id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOB}` },
    });
    expect(bob.status).toBe(403);
    expect(await bob.json()).toMatchObject({ ok: false, code: 'not_allowed' });
    expect(rem.api.pending().map((a) => a.id)).toEqual([id]);
    expect(exec.runs).toEqual([]);
    const audit = (await readAudit(dir)).filter((e) => e.kind === 'approval');
    expect(audit.map((e) => [e.who, e.outcome])).toEqual([['web:bob', 'refused']]);
  });

  it('audits an approval with a wrong token as anonymous, refused', async () => {
    const id = await held();
    const res = await fetch(`${base}/status/actions/${id}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-token-wrong-token' },
    });
    expect(res.status).toBe(401);
    expect(rem.api.pending().map((a) => a.id)).toEqual([id]);
    const audit = (await readAudit(dir)).filter((e) => e.kind === 'approval');
    expect(audit.map((e) => [e.who, e.outcome])).toEqual([['anonymous', 'refused']]);
  });

  it('streams changes live, to a bounded number of clients, and frees a slot on disconnect', async () => {
    const cookie = await signIn();
    const first = new AbortController();
    const stream = await fetch(`${base}/status/events`, {
      headers: { cookie },
      signal: first.signal,
    });
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = stream.body!.getReader();
    let text = '';
    const until = async (want: RegExp) => {
      while (!want.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${String(want)}: ${text}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await until(/data-container=\\"local\/db\\" data-status=\\"ok\\"/);
    expect((await fetch(`${base}/status/events`, { headers: { cookie } })).status).toBe(503);
    services.services[0] = { ...services.services[0]!, status: 'down', message: 'exited (0)' };
    await until(/data-container=\\"local\/db\\" data-status=\\"down\\"/);
    await until(/: heartbeat/);
    first.abort();
    await eventually(async () => {
      const again = new AbortController();
      const res = await fetch(`${base}/status/events`, {
        headers: { cookie },
        signal: again.signal,
      });
      again.abort();
      expect(res.status).toBe(200);
    });
  });
});
