import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { silentLogger } from '../../../src/core/logger.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { Collector, observer, retained, pollUntil } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { unixHttpJson } from '../../helpers/unix-http.js';
import { EngineActions } from './helpers.js';

/**
 * The agent process end to end with a real dockerd as its local engine: containers
 * become Home Assistant entities with retained state, transitions become stored events,
 * and a removed container's entities go only after repeated successful observations.
 */
describe('the agent watching a real Docker engine', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let url: string;
  let actions: EngineActions;
  const labels = { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'web' };

  beforeAll(async () => {
    engine = await startDockerd();
    actions = new EngineActions(engine.socketPath, engine.imageRef);
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
    critical: [web]
# No cooldown: on a loaded machine a container can sit in "created" past down_after, which
# alerts (a critical container that is not running is down) and would hold the alert this
# test waits for behind a cooldown.
containers: { down_after: 1s, cooldown: 0s, stable_after: 1s, reconcile_every: 1s }
`,
    );
    await agent.running(20_000);
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await engine?.stop();
  });

  const webState = 'outpost/edge/hosts/local/containers/demo-web';
  const webRunning =
    'homeassistant/binary_sensor/outpost_edge/local_container_demo-web_running/config';

  it('publishes a new container’s entities, keyed on compose labels, and its state', async () => {
    const id = await actions.run('demo-web-1', { labels });
    const configs = await pollUntil(
      () => retained(url, 'homeassistant/#'),
      (m) => m.has(webRunning),
      'the container’s discovery configs',
    );
    const all = [...configs].map(([topic, p]) => ({ topic, payload: JSON.parse(p) as unknown }));
    expect(validateDiscovery(all as Parameters<typeof validateDiscovery>[0])).toEqual([]);
    expect([...configs.keys()].some((t) => t.includes(id.slice(0, 12)))).toBe(false);
    const states = await pollUntil(
      () => retained(url, 'outpost/edge/#'),
      (m) => m.has(webState),
      'the container state',
    );
    expect(JSON.parse(states.get(webState)!)).toMatchObject({
      name: 'demo-web-1',
      state: 'running',
    });
    expect(JSON.parse(states.get('outpost/edge/hosts/local')!)).toMatchObject({
      running: 1,
      critical_down: false,
    });
    expect(states.get('outpost/edge/hosts/local/availability')).toBe('online');

    // Stop it: the state follows at once; the critical problem only after down_after.
    await actions.post(id, 'kill');
    await webAndHost('exited', true, 'exited, then critical down');

    // Started again: the outage ends (container_recovered, critical_down false).
    await actions.post(id, 'start');
    await webAndHost('running', false, 'running again, no longer critical down');

    // A re-created container (new id, same compose labels) keeps its entities.
    await actions.remove(id);
    await actions.run('demo-web-1', { labels });
    await pollUntil(
      () => retained(url, 'outpost/edge/#'),
      (m) => JSON.parse(m.get(webState) ?? '{}').state === 'running',
      'running again after re-creation',
    );
    expect((await retained(url, 'homeassistant/#')).has(webRunning)).toBe(true);

    // Home Assistant restarts: the container's current state comes again, fresh (the
    // tracker keeps the states, the StatePublisher does not hold a copy of them).
    const ha = await observer(url);
    try {
      const col = await new Collector(ha).subscribe(webState);
      await col.waitFor(() => col.messages.some((m) => m.retain), 'the retained state');
      await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await col.waitFor(
        () => col.messages.some((m) => !m.retain),
        'a fresh copy of the state after the birth message',
      );
      const fresh = col.messages.find((m) => !m.retain)!;
      expect(JSON.parse(fresh.payload)).toMatchObject({ name: 'demo-web-1', state: 'running' });
    } finally {
      await ha.endAsync();
    }
  }, 120_000); // several engine round trips: room for a busy machine

  it('removes a removed container’s entities and state after repeated observations', async () => {
    const ids = await pollUntil(fetchIds, (v) => v.length > 0, 'the container to exist');
    for (const id of ids) await actions.remove(id);
    await pollUntil(
      async () =>
        new Map([
          ...(await retained(url, 'homeassistant/#')),
          ...(await retained(url, 'outpost/edge/#')),
        ]),
      (m) => !m.has(webRunning) && !m.has(webState),
      'entities and state gone',
    );
  });

  it('stored every transition as an event', async () => {
    expect((await agent.stop()).code).toBe(0);
    const store = SqliteEventStore.open({
      dataDir: `${agent.dir}/data`,
      node: 'edge',
      log: silentLogger(),
    });
    try {
      const types = (await store.query({ limit: 100 })).map((e) => `${e.type} ${e.subject}`);
      expect(types).toContain('container_down local/demo-web');
      expect(types).toContain('container_recovered local/demo-web');
    } finally {
      await store.close();
    }
  });

  /** Waits for the container's retained state and the host's critical_down to read so. */
  function webAndHost(state: string, criticalDown: boolean, what: string) {
    return pollUntil(
      () => retained(url, 'outpost/edge/#'),
      (m) =>
        JSON.parse(m.get(webState) ?? '{}').state === state &&
        JSON.parse(m.get('outpost/edge/hosts/local') ?? '{}').critical_down === criticalDown,
      what,
    );
  }

  async function fetchIds(): Promise<string[]> {
    const list = await unixHttpJson<{ Id: string }[]>(
      engine.socketPath,
      '/containers/json?all=true',
    );
    return list.map((c) => c.Id);
  }
});
