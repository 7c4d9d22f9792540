import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { renderEnumState } from '../../helpers/ha-rules/enum-state.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { main } from '../../../src/cli/dispatch.js';
import { parseConfig } from '../../../src/config/load.js';
import { desiredDiscovery as desiredDiscoveryFor } from '../../../discovery/agent-model.js';
import type { Config } from '../../../src/config/schema.js';
import { configuredEntities } from '../../../src/main.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd } from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { Collector, observer, pollUntil, retained } from '../../helpers/mqtt.js';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { getFreePort } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { EngineActions } from '../containers/helpers.js';

/** What the agent publishes for a config before anything is observed. */
const desiredDiscovery = (c: Config) => desiredDiscoveryFor(c, configuredEntities(c));

const agents: AgentProcess[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.cleanup();
});

// A remote host (no state until its collector reports) and a second local one (whose
// availability the agent publishes), both removed in the last test.
const NAS = `  - id: nas
    name: NAS box
    ssh: { host: 127.0.0.1, user: ops, host_key: "SHA256:${'A'.repeat(43)}" }
  - id: lab
`;

function yaml(port: number, dataDir: string, withNas: boolean) {
  return `node: { id: edge, name: Edge site }
data_dir: ${dataDir}
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: local
${withNas ? NAS : ''}`;
}

async function run(port: number, dataDir: (dir: string) => string, withNas: boolean) {
  const a = await spawnAgent((dir) => yaml(port, dataDir(dir), withNas));
  agents.push(a);
  await a.running(15_000);
  return a;
}

describe('discovery of a running agent', () => {
  it('publishes exactly the expected entity set, passing HA’s rules with zero violations', async () => {
    const port = await getFreePort();
    const a = await run(port, (d) => `${d}/data`, true);
    const url = `mqtt://127.0.0.1:${port}`;
    const expected = desiredDiscovery(parseConfig(yaml(port, '/x', true), { env: {} }).config);
    const found = await pollUntil(
      () => retained(url, 'homeassistant/#'),
      (m) => m.size >= expected.length,
      'every expected config',
      30_000,
    );
    expect([...found.keys()].sort()).toEqual(expected.map((c) => c.topic).sort());
    const messages = [...found].map(([topic, payload]) => ({
      topic,
      payload: JSON.parse(payload) as unknown,
    }));
    expect(validateDiscovery(messages as Parameters<typeof validateDiscovery>[0])).toEqual([]);
    // retained states the entities read are there too
    const states = await retained(url, 'outpost/#');
    expect(states.get('outpost/edge/availability')).toBe('online');
    expect(states.get('outpost/edge/hosts/local/availability')).toBe('online');
    await a.stop();
  });

  it('republishes every config and state after Home Assistant’s birth message', async () => {
    const port = await getFreePort();
    await run(port, (d) => `${d}/data`, true);
    const url = `mqtt://127.0.0.1:${port}`;
    const expected = desiredDiscovery(
      parseConfig(yaml(port, '/x', true), { env: {} }).config,
    ).length;
    // Wait until the first publishing round is complete on the broker.
    for (let t = Date.now(); Date.now() - t < 10_000;) {
      if ((await retained(url, 'homeassistant/#')).size >= expected) break;
    }
    const ha = await observer(url);
    const col = new Collector(ha);
    await col.subscribe('homeassistant/+/+/+/config');
    await col.subscribe('outpost/edge/hosts/+/availability');
    await col.waitFor(
      () => col.messages.filter((m) => m.retain).length >= expected + 2,
      'the retained set',
    );
    const before = col.messages.length;
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    // fresh (non-retained) copies of every config and state arrive after the birth
    const fresh = () => col.messages.slice(before).filter((m) => !m.retain);
    await col.waitFor(
      () =>
        new Set(fresh().map((m) => m.topic)).size >= expected + 2 &&
        fresh().some((m) => m.topic.startsWith('outpost/')),
      'every config and state again',
      10_000,
    );
    const again = fresh();
    expect(
      new Set(again.filter((m) => m.topic.startsWith('homeassistant/')).map((m) => m.topic)).size,
    ).toBe(expected);
    // configs come before states
    const firstState = again.findIndex((m) => m.topic.startsWith('outpost/'));
    const lastConfig = again.map((m) => m.topic.startsWith('homeassistant/')).lastIndexOf(true);
    expect(lastConfig).toBeLessThan(firstState);
    await ha.endAsync();
  });

  it('leaves no retained config or state of a host removed from config, after a restart', async () => {
    const port = await getFreePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const a = await run(port, (d) => `${d}/data`, true);
    const before = await pollUntil(
      () => retained(url, 'homeassistant/#'),
      (m) => [...m.keys()].some((t) => t.includes('nas_host')),
      'the nas host config',
      30_000,
    );
    expect([...before.keys()].filter((t) => t.includes('outpost_edge/nas_'))).not.toEqual([]);
    expect((await retained(url, 'outpost/#')).get('outpost/edge/hosts/lab/availability')).toBe(
      'online',
    );
    expect((await a.stop()).code).toBe(0);

    // Same data dir (registry and broker store), nas gone from config.
    const b = await spawnAgent(() => yaml(port, `${a.dir}/data`, false));
    agents.push(b);
    await b.running(15_000);
    let after = new Map<string, string>();
    const t1 = Date.now();
    do {
      after = new Map([
        ...(await retained(url, 'homeassistant/#')),
        ...(await retained(url, 'outpost/#')),
      ]);
    } while (
      Date.now() - t1 < 10_000 &&
      [...after.keys()].some((t) => /[/_](nas|lab)[/_]/.test(t))
    );
    expect([...after.keys()].filter((t) => /[/_](nas|lab)[/_]/.test(t))).toEqual([]);
    expect(after.has('homeassistant/binary_sensor/outpost_edge/local_host_reachable/config')).toBe(
      true,
    );
  });
});

describe('container entities of a running agent', () => {
  it('make the state an enum sensor whose published state is one of its options', async () => {
    const engine = await startDockerd();
    try {
      const port = await getFreePort();
      const url = `mqtt://127.0.0.1:${port}`;
      const a = await spawnAgent(
        (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
`,
      );
      agents.push(a);
      await a.running(20_000);
      await new EngineActions(engine.socketPath, engine.imageRef).run('web');
      const configTopic = 'homeassistant/sensor/outpost_edge/local_container_web_state/config';
      const stateTopic = 'outpost/edge/hosts/local/containers/web';
      const found = await eventually(
        async () => {
          const m = await retained(url, '#');
          expect(m.has(configTopic) && m.has(stateTopic)).toBe(true);
          return m;
        },
        { timeout: 60_000 },
      );
      const config = JSON.parse(found.get(configTopic)!) as Record<string, unknown>;
      expect(config).toMatchObject({
        device_class: 'enum',
        options: ['created', 'running', 'paused', 'restarting', 'exited', 'dead'],
        state_topic: stateTopic,
      });
      const configs = [...found]
        .filter(([topic]) => topic.startsWith('homeassistant/'))
        .map(([topic, payload]) => ({ topic, payload }));
      expect(validateDiscovery(configs)).toEqual([]);
      // The state as published, and as Home Assistant shows it through the config's template.
      const published = JSON.parse(found.get(stateTopic)!) as { state: string };
      expect(config.options).toContain(published.state);
      expect(renderEnumState(config.value_template, found.get(stateTopic)!)).toBe(published.state);
      expect((await a.stop()).code).toBe(0);
    } finally {
      await engine.stop();
    }
  }, 180_000); // dockerd starts its own containerd first: slow on a loaded machine
});

describe('the Alerts silenced switch of a running agent', () => {
  it('silences the host when Home Assistant turns it on, shows it, and ends it when off', async () => {
    const port = await getFreePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const a = await spawnAgent(
      (dir) =>
        `${yaml(port, `${dir}/data`, false).replace(
          'broker: { listen',
          'broker: { users: [{ username: ha, password: ha-secret }], listen',
        )}policy: [{ action: silence, target: local, decision: allow }]\n`,
    );
    agents.push(a);
    await a.running(15_000);
    const switchTopic = 'homeassistant/switch/outpost_edge/local_host_silence/config';
    const stateTopic = 'outpost/edge/hosts/local/silence';
    const stateNow = async () =>
      JSON.parse((await retained(url, stateTopic)).get(stateTopic) ?? '{}') as Record<
        string,
        unknown
      >;
    const found = await eventually(async () => {
      const m = await retained(url, '#');
      expect([m.has(switchTopic), m.has(stateTopic)]).toEqual([true, true]);
      return m;
    });
    const configs = [...found]
      .filter(([topic]) => topic.startsWith('homeassistant/'))
      .map(([topic, payload]) => ({ topic, payload }));
    expect(validateDiscovery(configs)).toEqual([]);
    const sw = JSON.parse(found.get(switchTopic)!) as Record<string, string>;
    expect(JSON.parse(found.get(stateTopic)!)).toMatchObject({ silenced: false });
    const ha = await observer(url, { username: 'ha', password: 'ha-secret' });
    try {
      // As Home Assistant does, logged in: the switch's payload on its command topic.
      await ha.publishAsync(sw.command_topic!, sw.payload_on!, { qos: 1 });
      const on = await eventually(async () => {
        const state = await stateNow();
        expect(state).toMatchObject({ silenced: true, by: 'ha' });
        return state;
      });
      // remediation.silence_for: an hour from when it was turned on.
      expect(Date.parse(on.until as string) - Date.now()).toBeGreaterThan(30 * 60_000);
      await ha.publishAsync(sw.command_topic!, sw.payload_off!, { qos: 1 });
      await eventually(async () => {
        expect(await stateNow()).toEqual({
          silenced: false,
          until: null,
          by: null,
          containers: {},
        });
      });
    } finally {
      await ha.endAsync();
    }
    expect((await a.stop()).code).toBe(0);
  });
});

describe('outpost discovery cleanup', () => {
  it('removes stale configs under this node only, and keeps what the agent produces', async () => {
    const broker = await startMosquitto({ listeners: ['anonymous'] });
    const dir = await makeTempDir('cleanup');
    try {
      const file = `${dir}/config.yaml`;
      await writeFile(
        file,
        `node: { id: edge }\ndata_dir: ${dir}/data\nbroker: { mode: external, url: "${broker.url}" }\n`,
      );
      const pub = await observer(broker.url);
      const ours = 'homeassistant/binary_sensor/outpost_edge/local_host_reachable/config';
      const stale = 'homeassistant/sensor/outpost_edge/gone_thing/config';
      const other = 'homeassistant/sensor/outpost_other/thing/config';
      for (const t of [ours, stale, other])
        await pub.publishAsync(t, '{"name":"x"}', { qos: 1, retain: true });
      await pub.endAsync();
      const out: string[] = [];
      const code = await main(['discovery', 'cleanup', '--config', file], {
        out: (l) => out.push(l),
        err: (l) => out.push(l),
        env: {},
      });
      expect(code).toBe(0);
      expect(out).toEqual([`removed ${stale}`, '1 stale discovery config(s) removed']);
      const left = await retained(broker.url, 'homeassistant/#');
      expect([...left.keys()].sort()).toEqual([ours, other].sort());
    } finally {
      await broker.stop();
      await removeTempDir(dir);
    }
  });
});

describe('device-based discovery', () => {
  it('publishes one config per device, valid by HA’s rules, and switches back cleanly', async () => {
    const port = await getFreePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const base = (dir: string, deviceBased: boolean) =>
      `${yaml(port, `${dir}/data`, true)}discovery: { device_based: ${deviceBased} }\n`;
    const a = await spawnAgent((dir) => base(dir, true));
    agents.push(a);
    await a.running(15_000);
    let found = new Map<string, string>();
    for (let t = Date.now(); Date.now() - t < 10_000;) {
      found = await retained(url, 'homeassistant/#');
      if (found.size >= 4) break;
    }
    // the agent, local, nas and lab devices: one message each
    expect([...found.keys()].sort()).toEqual([
      'homeassistant/device/outpost_edge/agent/config',
      'homeassistant/device/outpost_edge/host_lab/config',
      'homeassistant/device/outpost_edge/host_local/config',
      'homeassistant/device/outpost_edge/host_nas/config',
    ]);
    const messages = [...found].map(([topic, p]) => ({ topic, payload: JSON.parse(p) as unknown }));
    expect(validateDiscovery(messages as Parameters<typeof validateDiscovery>[0])).toEqual([]);
    expect((await a.stop()).code).toBe(0);

    // Back to per-entity discovery on the same broker store and registry.
    const b = await spawnAgent(() => base(a.dir, false));
    agents.push(b);
    await b.running(15_000);
    const expected = desiredDiscovery(parseConfig(yaml(port, '/x', true), { env: {} }).config);
    for (let t = Date.now(); Date.now() - t < 10_000;) {
      found = await retained(url, 'homeassistant/#');
      if (![...found.keys()].some((k) => k.includes('/device/')) && found.size === expected.length)
        break;
    }
    expect([...found.keys()].sort()).toEqual(expected.map((c) => c.topic).sort());
  });
});
