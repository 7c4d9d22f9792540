import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { liveEntities } from '../../../src/cli/dashboard/live-entities.js';
import { LAUNCHER, spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startChromium } from '../../helpers/chromium.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { validateDashboard } from '../../helpers/ha-rules/dashboard.js';
import { retained } from '../../helpers/mqtt.js';
import { getFreePort, getFreePorts } from '../../helpers/ports.js';
import { EngineActions } from '../containers/helpers.js';

/**
 * `outpost dashboard` as users run it (the launcher, a process of its own) against a real
 * agent on its embedded broker, watching a real dockerd, the machine's root disk and a
 * watchdog check: the YAML it prints passes Home Assistant's card rules and names only
 * entities the agent published; its preview, opened in a real Chromium, shows every container.
 *
 * The same run makes the README's picture: `npm run screenshot:dashboard` sets
 * OUTPOST_DASHBOARD_PNG and the preview's screenshot is written there (docs/img/dashboard.png).
 */

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function outpost(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, args, {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

type Card = Record<string, unknown>;
const CONTAINERS = ['db', 'web', 'worker'];
/** The committed picture's budget: the repository carries it in every clone. */
const PNG_BUDGET = 200 * 1024;
const TOKEN = 'dashboard-test-token';

let engine: ContainerEngine;
let agent: AgentProcess;
let url: string;

beforeAll(async () => {
  engine = await startDockerd();
  const actions = new EngineActions(engine.socketPath, engine.imageRef);
  await actions.run('web');
  await actions.run('db');
  await actions.run('worker', { cmd: ['sh', '-c', 'exit 3'] });
  const [port, httpPort] = await getFreePorts(2);
  url = `mqtt://127.0.0.1:${port}`;
  agent = await spawnAgent(
    (dir) => `node: { id: site, name: Test site }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}", users: [{ username: ops, password: pw }] }
hosts:
  - id: local
    name: edge
    engine: { socket: ${engine.socketPath} }
    critical: [worker]
containers: { reconcile_every: 1s, down_after: 1s }
disks: { include: ["/"], warn: 70, critical: 90 }
watchdog:
  interval: 1s
  checks: [{ id: broker, tcp: "127.0.0.1:${port}" }]
http: { enabled: true, listen: "127.0.0.1:${httpPort}" }
backups:
  ping_token: ${TOKEN}
  jobs: [{ name: photos, max_age: 26h }]
remediation: { approvers: [ops] }
policy:
  - { action: restart_container, target: "local/*", decision: approve }
`,
  );
  await agent.running(60_000);
  // A backup reported done, as a script would after its run (Healthchecks-style ping).
  const ping = await fetch(`http://127.0.0.1:${httpPort}/ping/photos`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  if (ping.status !== 200) throw new Error(`the backup ping got ${ping.status}`);
}, 180_000);

afterAll(async () => {
  await agent?.cleanup();
  await engine?.stop();
});

describe('outpost dashboard against a live site', { timeout: 180_000 }, () => {
  it('prints a sections view of the live entities that passes Home Assistant’s card rules', async () => {
    const file = join(agent.dir, 'dashboard.yaml');
    const preview = join(agent.dir, 'dashboard.html');
    const args = ['dashboard', '-c', agent.configFile, '--output', file, '--preview', preview];
    // Discovery rounds are debounced: wait until both containers and the disk are in it.
    const text = await eventually(
      async () => {
        // The critical worker exits at once: its host's problem is on (an open incident).
        const states = await retained(url, 'outpost/site/hosts/local');
        expect(JSON.parse(states.get('outpost/site/hosts/local') ?? '{}')).toMatchObject({
          critical_down: true,
        });
        const r = await outpost(args);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/^wrote .*dashboard\.yaml: 2 section\(s\)$/m);
        const yaml = await readFile(file, 'utf8');
        for (const c of CONTAINERS) expect(yaml).toContain(`container_${c}_state`);
        expect(yaml).toContain('disk_root_used_pct');
        expect(yaml).toContain('backup_photos_last_success');
        return yaml;
      },
      { timeout: 120_000, interval: 1000 },
    );
    const board = parse(text) as { views: [{ sections: { cards: Card[] }[] }] };
    const configs = await retained(url, 'homeassistant/#');
    const live = liveEntities(
      [...configs].map(([topic, payload]) => ({ topic, payload })),
      'homeassistant',
    );
    expect(live.skipped).toEqual([]);
    const ids = new Set(live.entities.map((e) => e.entityId));
    expect(validateDashboard(board, ids)).toEqual([]);

    const [site, host] = board.views[0].sections.map((s) => s.cards);
    expect(site![0]).toMatchObject({ type: 'heading', heading: 'Test site' });
    expect(site!.find((c) => c.name === 'Watchdog')).toMatchObject({
      type: 'tile',
      entity: 'binary_sensor.site_watchdog_problem',
    });
    expect(host![0]).toMatchObject({ type: 'heading', heading: 'edge' });
    const tiles = host!.filter((c) => c.type === 'tile').map((c) => c.name);
    expect(tiles).toEqual(expect.arrayContaining(CONTAINERS));
    const buttons = host!.filter((c) => c.type === 'button').map((c) => c.entity);
    expect(buttons).toEqual(CONTAINERS.map((c) => `button.site_local_container_${c}_restart`));
    expect(host!.find((c) => c.type === 'gauge')).toMatchObject({
      entity: 'sensor.site_local_disk_root_used_pct',
      name: '/',
      severity: { green: 0, yellow: 70, red: 90 },
    });

    // stdout gives the same YAML: the order depends on nothing the broker does.
    const again = await outpost(['dashboard', '-c', agent.configFile]);
    expect(again.code, again.err).toBe(0);
    expect(`${again.out}`).toBe(text);

    // The preview in a real browser: a tile per container, with its live state.
    const browser = await startChromium({ width: 1000, height: 700 });
    try {
      await browser.page.goto(`file://${preview}`);
      for (const c of CONTAINERS) {
        const tile = browser.page.locator(
          `.tile[data-entity="sensor.site_local_container_${c}_state"]`,
        );
        expect(await tile.count()).toBe(1);
        expect(await tile.locator('.name').textContent()).toBe(c);
      }
      const web = browser.page.locator(
        '.tile[data-entity="sensor.site_local_container_web_state"]',
      );
      expect(await web.locator('.state').textContent()).toBe('Running');
      expect(await browser.page.locator('.gauge').count()).toBe(1);
      expect(await browser.page.locator('.entities li').allTextContents()).toEqual([
        'edge Critical container down',
      ]);
      const png = await browser.page.screenshot({ fullPage: true, type: 'png' });
      expect(png.length).toBeLessThan(PNG_BUDGET);
      const out = process.env.OUTPOST_DASHBOARD_PNG;
      if (out) {
        const path = resolve(out);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, png);
      }
    } finally {
      await browser.close();
    }
  });

  it('says so when the broker holds nothing of the node, or cannot be reached', async () => {
    const other = join(agent.dir, 'other.yaml');
    const cfg = await readFile(agent.configFile, 'utf8');
    await writeFile(
      other,
      cfg.replace('node: { id: site, name: Test site }', 'node: { id: other }'),
    );
    const r = await outpost(['dashboard', '-c', other]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      'no entities of node "other" in the retained discovery configs under homeassistant/+/outpost_other/+/config',
    );
    expect(r.err).toContain(`(broker ${url})`);

    const port = await getFreePort();
    const down = join(agent.dir, 'down.yaml');
    await writeFile(down, cfg.replace(/127\.0\.0\.1:\d+"/, `127.0.0.1:${port}"`));
    const d = await outpost(['dashboard', '-c', down, '--wait', '2000']);
    expect(d.code).toBe(1);
    expect(d.err).toContain(`cannot reach the broker at mqtt://127.0.0.1:${port}`);

    const bad = await outpost(['dashboard', '-c', agent.configFile, '--host', 'garage']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--host: no host "garage" among the retained configs');
  });
});
