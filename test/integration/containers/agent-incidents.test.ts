import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRef, StoredEvent } from '../../../src/core/events.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { pollUntil, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { EngineActions } from './helpers.js';

/**
 * Issue #14 end to end, the agent process against a real dockerd: a container crash-looping
 * under `restart: always` is one incident — opened after down_after, flapping inside it,
 * re-alerted per cooldown, kept across a restart of the agent, closed once the container
 * stays up for stable_after — and the critical-down sensor follows every outage's incident.
 */
describe('incidents of a real Docker engine’s containers', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let first: AgentProcess | undefined;
  let actions: EngineActions;
  let volume: string;
  let url: string;
  let port: number;
  const hostTopic = 'outpost/edge/hosts/local';

  /** The agent's config; `cooldown` differs between the two runs of the agent. */
  const config = (cooldown: string) => (dir: string) => `node: { id: edge }
data_dir: ${dir}/data
log: { level: info }
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
    critical: [crashy, blip]
containers: { down_after: 3s, stable_after: 6s, cooldown: ${cooldown}, reconcile_every: 1s }
`;

  beforeAll(async () => {
    engine = await startDockerd();
    actions = new EngineActions(engine.socketPath, engine.imageRef);
    volume = await makeTempDir('incidents-volume');
    port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    await actions.run('blip');
    agent = await spawnAgent(config('20s'));
    await agent.running(30_000);
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await first?.cleanup();
    await engine?.stop();
    if (volume) await removeTempDir(volume);
  });

  /** Every stored event about a container, oldest first (the store is read beside the agent). */
  async function eventsOf(name: string): Promise<StoredEvent[]> {
    const store = SqliteEventStore.open({
      dataDir: `${agent.dir}/data`,
      node: 'edge',
      readonly: true,
    });
    try {
      return (await store.query({ limit: 1000 })).filter((e) => e.subject === `local/${name}`);
    } finally {
      await store.close();
    }
  }
  const incidentOf = (e: StoredEvent) => e.data.incident as IncidentRef;
  const isDown = (e: StoredEvent) => e.type === 'container_down';
  async function host(): Promise<{ critical_down: boolean; critical_down_list: string[] }> {
    const m = await retained(url, hostTopic);
    return JSON.parse(m.get(hostTopic) ?? '{}') as {
      critical_down: boolean;
      critical_down_list: string[];
    };
  }

  let incident: string;

  it('a crash loop opens one incident, with flapping inside it, re-alerted per cooldown', async () => {
    // Exits a second after each start until told to stay; the engine restarts it each time.
    await actions.run('crashy', {
      cmd: [
        'sh',
        '-c',
        'echo x >> /data/starts; [ -f /data/stay ] && exec sleep 3600; sleep 1; exit 1',
      ],
      binds: [`${volume}:/data`],
      restart: { name: 'always', max: 0 },
    });
    const events = await pollUntil(
      () => eventsOf('crashy'),
      (es) => es.some((e) => isDown(e) && e.data.repeat === true),
      'a re-alert of the crash loop’s incident',
      90_000,
    );
    const downs = events.filter(isDown);
    expect(downs.map((e) => e.data.repeat ?? false)).toEqual([false, true]);
    incident = incidentOf(downs[0]!).id;
    expect(downs.map((e) => incidentOf(e))).toMatchObject([
      { id: incident, status: 'open' },
      { id: incident, status: 'open' },
    ]);
    expect(downs[0]!.data.message).toMatch(/^local\/crashy has been down for \d+ (s|min): /);
    expect(downs[1]!.data).toMatchObject({ title: 'local/crashy is still down' });
    expect(downs[1]!.data.message).toMatch(
      /^local\/crashy is still down after \d+ (s|min): .*restarts in/,
    );
    // No recovery between crashes: the container never stayed up for stable_after.
    expect(events.filter((e) => e.type === 'container_recovered')).toEqual([]);
    const flapping = events.filter((e) => e.type === 'container_flapping');
    expect(flapping.map((e) => incidentOf(e).id)).toEqual([incident]);
    expect(await host()).toMatchObject({ critical_down: true, critical_down_list: ['crashy'] });
    // The log says it in the same words.
    expect(agent.output()).toContain(String(downs[0]!.data.message));
  }, 120_000);

  it('a restart of the agent mid-incident neither raises it again nor forgets it; it closes once the container stays up', async () => {
    expect((await agent.stop()).code).toBe(0);
    first = agent;
    // Back on the same data dir, still crash-looping; a long cooldown from now on.
    agent = await spawnAgent(config('1h'), {}, { dir: first.dir });
    await agent.running(30_000);
    await writeFile(join(volume, 'stay'), '');
    const events = await pollUntil(
      () => eventsOf('crashy'),
      (es) => es.some((e) => e.type === 'container_recovered'),
      'the crash loop’s incident to close',
      120_000,
    );
    const downs = events.filter(isDown);
    expect(downs.filter((e) => e.data.repeat !== true)).toHaveLength(1);
    const recovered = events.filter((e) => e.type === 'container_recovered');
    expect(recovered).toHaveLength(1);
    expect(incidentOf(recovered[0]!)).toMatchObject({ id: incident, status: 'closed' });
    // Closed only once it had run for stable_after (6 s).
    const up = /running for (\d+) (s|min)/.exec(String(recovered[0]!.data.message));
    expect(up, String(recovered[0]!.data.message)).not.toBeNull();
    expect(Number(up![1]) * (up![2] === 'min' ? 60 : 1)).toBeGreaterThanOrEqual(6);
    await pollUntil(host, (h) => h.critical_down === false, 'critical_down false');
  }, 180_000);

  it('the critical-down sensor follows each outage’s incident, however close together', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const before = (await eventsOf('blip')).length;
      await actions.post('blip', 'kill');
      // The incident opens (stored) and the sensor turns on; either may come first.
      const opened = await pollUntil(
        async () => ({ events: (await eventsOf('blip')).slice(before), host: await host() }),
        (v) => v.events.some(isDown) && v.host.critical_down,
        `outage ${i + 1}: its incident and critical_down`,
      );
      expect(opened.host.critical_down_list).toEqual(['blip']);
      expect(opened.events.filter(isDown)).toHaveLength(1);
      ids.push(incidentOf(opened.events.find(isDown)!).id);
      await actions.post('blip', 'start');
      const closed = await pollUntil(
        async () => ({ events: (await eventsOf('blip')).slice(before), host: await host() }),
        (v) => v.events.some((e) => e.type === 'container_recovered') && !v.host.critical_down,
        `outage ${i + 1}: its incident closed and critical_down cleared`,
      );
      const recovered = closed.events.filter((e) => e.type === 'container_recovered');
      expect(recovered.map(incidentOf)).toMatchObject([{ id: ids[i], status: 'closed' }]);
    }
    expect(new Set(ids).size).toBe(3);
  }, 180_000);
});
