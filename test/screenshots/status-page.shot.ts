import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../helpers/agent.js';
import { launchChromium } from '../helpers/chromium.js';
import { startDockerd, type ContainerEngine } from '../helpers/container-engines.js';
import { observer } from '../helpers/mqtt.js';
import { getFreePorts } from '../helpers/ports.js';
import { EngineActions } from '../integration/containers/helpers.js';

const OUT = resolve(import.meta.dirname, '../../docs/img/status-page.png');
const TOKEN = 'screenshot-token-0123456789';

let engine: ContainerEngine | undefined;
let agent: AgentProcess | undefined;

afterAll(async () => {
  await agent?.cleanup();
  await engine?.stop();
});

/**
 * docs/img/status-page.png: the status page at desktop width, for an agent watching a few
 * real containers on a real dockerd, one of them stopped and a restart of it waiting for
 * approval.
 */
it('takes the status page', async () => {
  engine = await startDockerd();
  const actions = new EngineActions(engine.socketPath, engine.imageRef);
  for (const name of ['postgres', 'grafana', 'nextcloud']) await actions.run(name);
  const mosquitto = await actions.run('mosquitto');
  const [mqttPort, httpPort] = await getFreePorts(2);
  agent = await spawnAgent(
    (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${mqttPort}"
  users: [{ username: ops, password: ops-secret }]
hosts:
  - id: local
    engine: { socket: ${engine!.socketPath} }
http:
  enabled: true
  listen: "127.0.0.1:${httpPort}"
  status_page: true
  users: [{ name: alice, token: "${TOKEN}" }]
policy:
  - { action: restart_container, target: "local/*", decision: approve }
remediation: { approvers: ["web:alice"] }
`,
  );
  await agent.running(120_000);
  await actions.post(mosquitto, 'stop');
  const ops = await observer(`mqtt://127.0.0.1:${mqttPort}`, {
    username: 'ops',
    password: 'ops-secret',
  });
  const body = JSON.stringify({ target: 'local/mosquitto', reason: 'stopped after an upgrade' });
  await ops.publishAsync('outpost/edge/cmd/restart_container', body, { qos: 1 });
  await ops.endAsync();

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`http://127.0.0.1:${httpPort}/status/?token=${TOKEN}`);
    const wait = { timeout: 120_000 };
    await page.locator('#pending button.approve').waitFor(wait);
    await page.locator('[data-container="local/mosquitto"][data-status="down"]').waitFor(wait);
    // The watchdog's first round and the first disk poll, if they come in time.
    const soon = { timeout: 20_000 };
    await page
      .locator('[data-check="broker"]')
      .waitFor(soon)
      .catch(() => undefined);
    await page
      .locator('#disks tr[data-disk]')
      .first()
      .waitFor(soon)
      .catch(() => undefined);
    await page.screenshot({ path: OUT, fullPage: true });
  } finally {
    await browser.close();
  }
  expect((await stat(OUT)).size).toBeLessThan(200 * 1024);
});
