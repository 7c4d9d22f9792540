import { writeFile, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UplinkState } from '../../../bridges/uplink/uplink-bridge.js';
import { main } from '../../../src/cli/dispatch.js';
import type { WatchdogState } from '../../../src/capabilities/watchdog/watchdog.js';
import type { WireEvent } from '../../../src/core/events.js';
import { topics } from '../../../src/core/topics.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { Collector, observer, pollUntil, retained } from '../../helpers/mqtt.js';
import { getFreePort, LOOPBACK } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { UpstreamObserver } from '../uplink/upstream-observer.js';

/**
 * Issue 4's last point with real processes: the agent (its built CLI) with an uplink to a
 * real upstream mosquitto and an uplink-class tcp check on that mosquitto's port, plus a
 * local-class check on a socket the test opens and closes, and a regular file as the
 * watchdog device.
 */
const ROOT = { base: 'outpost', node: 'edge' };
const WATCHDOG = topics.watchdog(ROOT);
const UPLINK = topics.uplink(ROOT);

let upstream: MosquittoBroker;
let central: UpstreamObserver;
let agent: AgentProcess;
let local: MqttClient;
let seen: Collector;
let brokerUrl: string;
let svc: Server | undefined;
let svcPort: number;
let devDir: string;
let device: string;
let httpPort: number;

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((socket) => socket.destroy());
    s.once('error', reject);
    s.listen(port, LOOPBACK, () => resolve(s));
  });
}

function close(s: Server | undefined): Promise<void> {
  return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
}

function last<T>(topic: string): T | undefined {
  const p = seen.last(topic);
  return p ? (JSON.parse(p) as T) : undefined;
}

function watchdog(): WatchdogState | undefined {
  return last<WatchdogState>(WATCHDOG);
}

function uplink(): UplinkState | undefined {
  return last<UplinkState>(UPLINK);
}

/** The stored events, oldest first, as `outpost events --json` prints them. */
async function stored(): Promise<WireEvent[]> {
  const out: string[] = [];
  const code = await main(['events', '--since', '1h', '--json', '--config', agent.configFile], {
    out: (l) => out.push(l),
    err: (l) => out.push(l),
    env: {},
  });
  if (code !== 0) throw new Error(`outpost events failed: ${out.join('\n')}`);
  return out.map((l) => JSON.parse(l) as WireEvent);
}

/** Uplink connection errors the agent logged so far: one per failed reconnect attempt. */
function uplinkAttempts(): number {
  return agent
    .output()
    .split('\n')
    .filter((l) => l.includes('mqtt connection error') && l.includes(`:${upstream.port}`)).length;
}

beforeAll(async () => {
  // Persistence keeps the central observer's session across the upstream's outage.
  upstream = await startMosquitto({ listeners: ['anonymous'], persistence: true });
  central = await UpstreamObserver.connect(upstream.url, 'sites/edge/+/+/events');
  svcPort = await getFreePort();
  svc = await listen(svcPort);
  devDir = await makeTempDir('watchdog-device');
  device = join(devDir, 'watchdog');
  await writeFile(device, '');
  const brokerPort = await getFreePort();
  httpPort = await getFreePort();
  agent = await spawnAgent(
    (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${brokerPort}" }
mqtt: { reconnect_min: 100ms, reconnect_max: 500ms }
http: { enabled: true, listen: "127.0.0.1:${httpPort}" }
uplink: { url: "${upstream.url}", protocol: "5" }
watchdog:
  interval: 250ms
  grace: 0s
  max_unhealthy: 1s
  checks:
    - { id: central, tcp: "127.0.0.1:${upstream.port}", class: uplink, timeout: 1s }
    - { id: svc, tcp: "127.0.0.1:${svcPort}", fail_after: 1, timeout: 1s }
  device: { path: ${device}, enabled: true, timeout: 60s }
`,
  );
  await agent.running(20_000);
  brokerUrl = `mqtt://${LOOPBACK}:${brokerPort}`;
  local = await observer(brokerUrl);
  seen = await new Collector(local).subscribe('outpost/edge/#');
}, 60_000);

afterAll(async () => {
  await local?.endAsync();
  await agent?.cleanup();
  await central?.close();
  await close(svc);
  await upstream?.stop();
  if (devDir) await removeTempDir(devDir);
});

async function seenUntil(pred: () => boolean, what: string, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}; agent output:\n${agent?.output().slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the watchdog gates the uplink (issue 4)', () => {
  it('is healthy, petting, with the uplink connected and not paused', async () => {
    await seenUntil(
      () =>
        watchdog()?.healthy === true && watchdog()?.uplink === true && watchdog()?.petting === true,
      'a healthy watchdog with the uplink up',
    );
    expect(watchdog()!.checks).toMatchObject({
      central: { ok: true, class: 'uplink', down: false },
      svc: { ok: true, class: 'local', down: false },
    });
    expect(watchdog()!.last_pet).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    // The capability's report on the health API: the state it holds now.
    const res = await fetch(`http://${LOOPBACK}:${httpPort}/api/health/watchdog`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      healthy: true,
      uplink: true,
      petting: true,
      checks: { central: { ok: true, class: 'uplink' }, svc: { ok: true, class: 'local' } },
    });
    // Read from the broker, not the live subscription: aedes can hand a subscriber a
    // retained value after a newer live one (see the session note), and the uplink
    // republishes its state only when it changes.
    await pollUntil(
      async () =>
        JSON.parse((await retained(brokerUrl, UPLINK)).get(UPLINK) ?? '{}') as Partial<UplinkState>,
      (u) => u.connected === true && u.paused === false,
      'uplink up',
    );
  });

  it('pauses the uplink while it is down, stores events meanwhile, and delivers them all in order when it is back', async () => {
    const before = new Set((await stored()).map((e) => e.id));

    await upstream.down();
    await seenUntil(() => watchdog()?.uplink === false, 'the watchdog to report the uplink down');
    expect(watchdog()!.checks.central).toMatchObject({ ok: false, class: 'uplink', down: true });
    expect(watchdog()!.healthy).toBe(true);
    await seenUntil(() => uplink()?.paused === true, 'the uplink paused');
    const attemptsAtPause = uplinkAttempts();

    // A local outage while the uplink is down: unhealthy, still petted for max_unhealthy,
    // then the reset is announced and the petting stops; then it recovers.
    await close(svc);
    svc = undefined;
    await seenUntil(() => watchdog()?.healthy === false, 'the watchdog unhealthy');
    await seenUntil(() => watchdog()?.petting === false, 'the petting stopped');
    const announced = (await stored()).find((e) => e.type === 'watchdog_reset_pending');
    expect(announced).toMatchObject({ severity: 'critical', subject: 'watchdog' });
    expect(announced!.data.message).toMatch(
      /^Watchdog will reset edge in ~\d+s: local checks down for \d+ s: svc \(.*ECONNREFUSED/,
    );
    // Home Assistant's event stream carries it too (the uplink is paused: it gets it later).
    await seenUntil(
      () =>
        seen.messages.some(
          (m) => m.topic === topics.events(ROOT) && m.payload.includes('"watchdog_reset_pending"'),
        ),
      'the announcement on the local event stream',
    );
    svc = await listen(svcPort);
    await seenUntil(() => watchdog()?.healthy === true, 'the watchdog healthy again');
    await seenUntil(() => watchdog()?.petting === true, 'petting again');

    const during = (await stored()).filter((e) => !before.has(e.id));
    expect(during.map((e) => e.type)).toEqual([
      'uplink_lost',
      'watchdog_unhealthy',
      'watchdog_reset_pending',
      'watchdog_recovered',
    ]);
    expect(during[0]).toMatchObject({ subject: 'uplink', data: { down: ['central'] } });
    // Paused, the uplink made at most the attempt already under way when the pause came.
    expect(uplinkAttempts()).toBeLessThanOrEqual(attemptsAtPause + 1);
    expect(uplink()).toMatchObject({ connected: false, paused: true });
    // The uplink refreshes its state every 10 s: the backlog shows the held events then.
    await seenUntil(() => (uplink()?.backlog ?? 0) >= 4, 'the held events in the backlog', 20_000);

    await upstream.up();
    await seenUntil(() => watchdog()?.uplink === true, 'the watchdog to report the uplink up');
    await seenUntil(
      () => uplink()?.paused === false && uplink()?.connected === true,
      'the uplink resumed and connected',
    );
    const all = await pollUntil(
      stored,
      (es) => es.some((e) => e.type === 'uplink_restored'),
      'uplink_restored stored',
    );
    const ids = all.map((e) => e.id);
    expect(all.filter((e) => !before.has(e.id)).map((e) => e.type)).toEqual([
      'uplink_lost',
      'watchdog_unhealthy',
      'watchdog_reset_pending',
      'watchdog_recovered',
      'uplink_restored',
    ]);
    await seenUntil(() => central.has(ids), 'every stored event upstream');
    // In store order (duplicates are what at-least-once allows; a dedup by id keeps the first).
    const arrived = central.firstOccurrences().filter((id) => ids.includes(id));
    expect(arrived).toEqual(ids);
  }, 60_000);

  it('writes the magic close to the device on a clean stop', async () => {
    const petted = (await readFile(device, 'utf8')).length;
    expect(petted).toBeGreaterThan(2);
    const r = await agent.stop();
    expect(r.code).toBe(0);
    const bytes = await readFile(device, 'utf8');
    expect(bytes).toMatch(/^\.+V$/);
  });
});
