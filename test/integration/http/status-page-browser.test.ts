import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { readAudit } from '../../helpers/audit-file.js';
import { launchChromium } from '../../helpers/chromium.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { observer } from '../../helpers/mqtt.js';
import { getFreePorts } from '../../helpers/ports.js';
import { EngineActions } from '../containers/helpers.js';

const TOKEN = 'alice-browser-token-0123456789';
const WAIT = { timeout: 60_000 };

/**
 * The status page in a real headless Chromium, against the agent process and a real
 * dockerd: it shows the containers, follows a stop live without a reload, and its approve
 * button runs a held restart through remediation as `web:alice`. A wrong token and a form
 * posted from another origin are refused.
 */
describe('the status page in a browser', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let browser: Browser;
  let signedIn: BrowserContext;
  let actions: EngineActions;
  let db: string;
  let base: string;
  let mqttUrl: string;

  beforeAll(async () => {
    engine = await startDockerd();
    actions = new EngineActions(engine.socketPath, engine.imageRef);
    db = await actions.run('db');
    await actions.run('web');
    const [mqttPort, httpPort] = await getFreePorts(2);
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    base = `http://127.0.0.1:${httpPort}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${mqttPort}"
  users: [{ username: ops, password: ops-secret }]
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
http:
  enabled: true
  listen: "127.0.0.1:${httpPort}"
  status_page: true
  users: [{ name: alice, token: "\${OUTPOST_WEB_TOKEN_ALICE}" }]
policy:
  - { action: restart_container, target: "local/*", decision: approve }
remediation: { approvers: ["web:alice"] }
`,
      { OUTPOST_WEB_TOKEN_ALICE: TOKEN },
    );
    await agent.running(60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${agent.output()}`);
    });
    browser = await launchChromium();
    signedIn = await browser.newContext();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.cleanup();
    await engine?.stop();
  });

  /** A restart of `name` held for approval, asked for by `ops` over MQTT. */
  async function askRestart(name: string): Promise<void> {
    const ops = await observer(mqttUrl, { username: 'ops', password: 'ops-secret' });
    await ops.publishAsync(
      'outpost/edge/cmd/restart_container',
      JSON.stringify({ target: `local/${name}` }),
      { qos: 1 },
    );
    await ops.endAsync();
  }

  it('signs in with the token once, shows the containers and follows a stop live', async () => {
    const page = await signedIn.newPage();
    await page.goto(`${base}/status/?token=${TOKEN}`);
    // The token is gone from the address bar: the session cookie carries on.
    expect(page.url()).toBe(`${base}/status/`);
    await page.locator('[data-container="local/db"][data-status="ok"]').waitFor(WAIT);
    await page.locator('#live', { hasText: 'live' }).waitFor(WAIT);
    expect(await page.locator('[data-host="local"]').getAttribute('data-status')).toBe('ok');
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));

    await actions.post(db, 'stop');
    await page.locator('[data-container="local/db"][data-status="down"]').waitFor(WAIT);
    // The same document: the row changed without a reload.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(
      42,
    );
    expect(await page.locator('[data-container="local/db"]').textContent()).toMatch(/exited/);
    await page.close();
  }, 180_000);

  it('approves a held restart with its button: the container runs again, audited as web:alice', async () => {
    const page = await signedIn.newPage();
    await page.goto(`${base}/status/?token=${TOKEN}`);
    await askRestart('db');
    const approve = page.locator('#pending button.approve');
    await approve.waitFor(WAIT).catch(async (err: unknown) => {
      const state = await fetch(`${base}/status/state.json`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }).then((r) => r.text());
      throw new Error(`${String(err)}\n${state}\n${await page.content()}\n${agent.output()}`);
    });
    expect(await page.locator('#pending').textContent()).toMatch(/restart container\s+local\/db/);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST');
    await approve.click();
    const answer = await posted;
    expect([answer.status(), answer.status() === 303 ? '' : await answer.text()]).toEqual([
      303,
      '',
    ]);
    await page.locator('.notice').waitFor(WAIT);
    expect(await page.locator('.notice').textContent()).toMatch(/^\s*Approved action \w+: /);
    await page.locator('[data-container="local/db"][data-status="ok"]').waitFor(WAIT);
    await eventually(
      async () => {
        const audit = await readAudit(join(agent.dir, 'data'));
        const approvals = audit.filter((e) => e.kind === 'approval');
        expect(approvals.map((e) => [e.who, e.outcome])).toEqual([['web:alice', 'approved']]);
      },
      { timeout: 60_000 },
    );
    await page.close();
  }, 180_000);

  it('refuses a wrong token, and a session never starts', async () => {
    const stranger = await browser.newContext();
    const page = await stranger.newPage();
    const res = await page.goto(`${base}/status/?token=wrong-token-wrong-token`);
    expect(res?.status()).toBe(401);
    expect(await page.locator('.notice').textContent()).toContain('That token is not valid.');
    expect(await stranger.cookies()).toEqual([]);
    expect((await page.goto(`${base}/status/`))?.status()).toBe(401);
    await stranger.close();
    expect(agent.output()).not.toContain('wrong-token-wrong-token');
    expect(agent.output()).not.toContain(TOKEN);
  }, 180_000);

  it('refuses a form posted from another origin, though the browser sends the cookie', async () => {
    await askRestart('web');
    const page = await signedIn.newPage();
    await page.goto(`${base}/status/?token=${TOKEN}`);
    const row = page.locator('#pending tr[data-action]', { hasText: 'local/web' });
    await row.waitFor(WAIT);
    const id = (await row.getAttribute('data-action'))!;
    // Another port on the same machine: same site (the cookie goes), not same origin.
    const evil = await serveForm(`${base}/status/actions/${id}/approve`);
    try {
      const port = (evil.address() as { port: number }).port;
      const posted = page.waitForResponse((r) => r.url().endsWith(`/actions/${id}/approve`));
      await page.goto(`http://127.0.0.1:${port}/`);
      const res = await posted;
      expect(res.status()).toBe(403);
      expect(await res.text()).toMatch(/refused: Sec-Fetch-Site is same-site/);
    } finally {
      evil.close();
    }
    await page.goto(`${base}/status/`);
    expect(await page.locator(`#pending tr[data-action="${id}"]`).count()).toBe(1);
    const audit = await readAudit(join(agent.dir, 'data'));
    expect(audit.filter((e) => e.kind === 'approval' && e.action_id === id)).toEqual([]);
    await page.close();
  }, 180_000);
});

/** A page on another origin whose form posts itself to `action` as soon as it loads. */
async function serveForm(action: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<form method="post" action="${action}"><input name="csrf" value="guess"></form>` +
        '<script>document.forms[0].submit()</script>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
