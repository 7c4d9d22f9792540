import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { observer, waitUntil } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { cannedRecord, fakeId } from '../containers/fake-engine.js';
import { FakeEngineApi } from '../containers/fake-engine-api.js';

/**
 * kill -9 the agent process again and again while it produces events, and count: every
 * event it published on its event stream (which it does only after the event is on disk)
 * must be in the store after the last restart. The event source is a FAKE engine API
 * (named so; a real engine cannot flip twenty containers every few milliseconds) whose
 * critical containers die and start again in a loop.
 */
describe('the agent killed with SIGKILL during sustained event production', () => {
  let broker: MosquittoBroker;
  let engine: FakeEngineApi;
  let dir: string;
  const names = Array.from({ length: 20 }, (_, i) => `svc${i}`);

  beforeAll(async () => {
    broker = await startMosquitto({ listeners: ['anonymous'] });
    dir = await makeTempDir('agent-kill');
    engine = await FakeEngineApi.start(
      join(dir, 'engine.sock'),
      names.map((n) => cannedRecord(n) as Record<string, unknown>),
    );
  });

  afterAll(async () => {
    await broker?.stop();
    await removeTempDir(dir);
  });

  it('loses no accepted event', async () => {
    const seen = new Set<string>();
    const watcher = await observer(broker.url, { protocolVersion: 5 });
    watcher.on('message', (_t, payload) =>
      seen.add((JSON.parse(payload.toString()) as { id: string }).id),
    );
    await watcher.subscribeAsync('outpost/edge/events', { qos: 1 });

    let running = true;
    const flipping = (async () => {
      for (let round = 0; running; round++) {
        const up = round % 2 === 1;
        engine.records = names.map(
          (n) => cannedRecord(n, { state: up ? 'running' : 'exited' }) as Record<string, unknown>,
        );
        for (const n of names) engine.pushEvent(fakeId(n), up ? 'start' : 'die');
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    const config = () => `node: { id: edge }
data_dir: ${dir}/data
broker: { mode: external, url: "${broker.url}" }
hosts:
  - id: local
    engine: { socket: ${join(dir, 'engine.sock')} }
    critical: ["*"]
containers: { down_after: 0s, cooldown: 0s, reconcile_every: 1h }
`;
    let agent: AgentProcess | undefined;
    for (let kill = 0; kill < 5; kill++) {
      agent = await spawnAgent(config);
      const before = seen.size;
      // Generous deadlines: a busy machine slows the agent, and only a positive count passes.
      await waitUntil(() => seen.size >= before + 200, 'events from this run', 60_000);
      await agent.stop('SIGKILL');
      await agent.cleanup();
    }
    running = false;
    await flipping;
    agent = await spawnAgent(config);
    await agent.running(20_000);
    expect((await agent.stop('SIGTERM')).code).toBe(0);
    await agent.cleanup();
    await watcher.endAsync();

    const store = SqliteEventStore.open({
      dataDir: `${dir}/data`,
      node: 'edge',
      readonly: true,
      log: silentLogger(),
    });
    const stored = new Set((await store.query({ limit: 1_000_000 })).map((e) => e.id));
    await store.close();
    const lost = [...seen].filter((id) => !stored.has(id));
    expect(seen.size).toBeGreaterThanOrEqual(1000); // 5 runs × at least 200
    expect(lost).toEqual([]);
  }, 300_000);
});
