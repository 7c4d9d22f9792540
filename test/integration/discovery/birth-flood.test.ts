import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredDiscovery } from '../../../discovery/agent-model.js';
import { parseConfig } from '../../../src/config/load.js';
import { configuredEntities } from '../../../src/main.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { Collector, observer, pollUntil, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';

const BIRTHS = 1_000;
const COOLDOWN_MS = 2_000;

/** A republish round as the agent logs it when it starts (`time`: ISO 8601). */
interface Round {
  time: string;
  births: number;
}

/**
 * A flood of Home Assistant birth messages against the agent as it ships: every birth is
 * answered, but by few republish rounds, never two starting within `birth_cooldown` (issue
 * 13, point 5). Rounds are counted twice: in the agent's log, and as fresh copies of every
 * config seen by a subscriber.
 */
describe('a flood of HA birth messages (agent process)', () => {
  let agent: AgentProcess;
  let url: string;
  let expected: string[];

  beforeAll(async () => {
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    const yaml = (dir: string) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
discovery: { birth_cooldown: ${COOLDOWN_MS}ms }
hosts:
  - id: local
`;
    const config = parseConfig(yaml('/x'), { env: {} }).config;
    expected = desiredDiscovery(config, configuredEntities(config)).map((c) => c.topic);
    agent = await spawnAgent(yaml);
    await agent.running(20_000);
    await pollUntil(
      () => retained(url, 'homeassistant/#'),
      (m) => expected.every((t) => m.has(t)),
      'the first discovery round',
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    await agent?.cleanup();
  });

  const rounds = (): Round[] =>
    agent
      .output()
      .split('\n')
      .filter((l) => l.includes("republishing for Home Assistant's birth message"))
      .map((l) => JSON.parse(l) as Round);

  it(`answers ${BIRTHS} births with a round per cooldown at most`, async () => {
    const watch = await observer(url);
    const ha = await observer(url);
    try {
      const col = await new Collector(watch).subscribe('homeassistant/+/+/+/config');
      await col.waitFor(() => col.messages.length >= expected.length, 'the retained configs');
      await Promise.all(
        Array.from({ length: BIRTHS }, () =>
          ha.publishAsync('homeassistant/status', 'online', { qos: 1 }),
        ),
      );
      // Every birth is answered by a round (the last ones by the round after the cooldown).
      await eventually(() => expect(rounds().reduce((n, r) => n + r.births, 0)).toBe(BIRTHS));
      const seen = rounds();
      const fresh = (topic: string) =>
        col.messages.filter((m) => m.topic === topic && !m.retain).length;
      // Each round re-announces every config once; nothing else sends them again.
      await eventually(() => {
        for (const t of expected) expect(fresh(t), t).toBe(seen.length);
      });
      expect(rounds()).toHaveLength(seen.length);
      // Never two rounds within a cooldown (its start and its log line are one step apart),
      // so the rounds are bounded by how long the flood lasted, not by how many births.
      const at = seen.map((r) => Date.parse(r.time));
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      for (const g of gaps) expect(g).toBeGreaterThanOrEqual(COOLDOWN_MS - 50);
      const span = at.at(-1)! - at[0]!;
      expect(seen.length).toBeLessThanOrEqual(1 + Math.floor((span + 50) / COOLDOWN_MS));
    } finally {
      await Promise.all([watch.endAsync(), ha.endAsync()]);
    }
  }, 120_000);
});
