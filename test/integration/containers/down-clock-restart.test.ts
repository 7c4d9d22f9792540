import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { pollUntil } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { unixHttpJson } from '../../helpers/unix-http.js';
import { EngineActions } from './helpers.js';

/**
 * A crash-looping container's outage began before the agent restarted, its alert still
 * waiting for down_after: the agent started again alerts down_after after the outage's real
 * start (kept in `<data_dir>/down-since.json`), not after the last crash it sees.
 */
describe('a down clock kept across a restart of the agent (real dockerd)', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess | undefined;
  let first: AgentProcess | undefined;
  let port: number;

  const config = (dir: string) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
    critical: [crashy]
containers: { down_after: 40s, stable_after: 10s, cooldown: 1h, reconcile_every: 1s }
`;

  beforeAll(async () => {
    engine = await startDockerd();
    port = await getFreePort();
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await first?.cleanup();
    await engine?.stop();
  });

  const readJson = async <T>(dir: string, file: string): Promise<T | undefined> => {
    try {
      return JSON.parse(await readFile(join(dir, 'data', file), 'utf8')) as T;
    } catch {
      return undefined;
    }
  };
  type Clocks = { since: Record<string, number> };
  /** The container_down events of crashy, from the store beside the agent. */
  async function downs(dir: string) {
    const store = SqliteEventStore.open({ dataDir: `${dir}/data`, node: 'edge', readonly: true });
    try {
      const all = await store.query({ limit: 1000 });
      return all.filter((e) => e.subject === 'local/crashy' && e.type === 'container_down');
    } finally {
      await store.close();
    }
  }

  it('alerts from the outage kept on disk, not from the last crash before the restart', async () => {
    agent = await spawnAgent(config);
    await agent.running(60_000);
    const actions = new EngineActions(engine.socketPath, engine.imageRef);
    await actions.run('crashy', {
      cmd: ['sh', '-c', 'sleep 1; exit 1'],
      restart: { name: 'always', max: 0 },
    });
    const dir = agent.dir;
    const clocks = await pollUntil(
      () => readJson<Clocks>(dir, 'down-since.json'),
      (c) => c?.since['local/crashy'] !== undefined,
      'the down clock of local/crashy on disk',
      60_000,
    );
    const began = clocks!.since['local/crashy']!;
    expect((await agent.stop()).code).toBe(0);
    first = agent;
    agent = undefined;

    // It crashes again while the agent is away: the engine's last stop is now later.
    await pollUntil(
      () =>
        unixHttpJson<{ State: { FinishedAt: string } }>(
          engine.socketPath,
          '/containers/crashy/json',
        ),
      (c) => Date.parse(c.State.FinishedAt) > began + 5_000,
      'a crash of crashy after the kept clock',
      60_000,
    );
    agent = await spawnAgent(config, {}, { dir });
    await agent.running(60_000);
    const [down] = await pollUntil(
      () => downs(dir),
      (es) => es.length > 0,
      'the container_down of local/crashy',
      120_000,
    );
    // The outage it reports began when the first run of the agent saw it begin (to the
    // second it is rounded to), not at the crash after that run stopped.
    const start = Date.parse(down!.ts) - Number(down!.data.condition_for_s) * 1000;
    expect(Math.abs(start - began)).toBeLessThanOrEqual(1000);
    expect((await readJson<Clocks>(dir, 'down-since.json'))!.since).toEqual({});
  }, 300_000);
});
