import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  desiredDiscovery,
  discoveryContext,
  discoveryModel,
  discoveryPublisher,
  type AgentEntities,
} from '../../discovery/agent-model.js';
import { containersFamily } from '../../discovery/entities/containers.js';
import { modelDevices } from '../../discovery/model.js';
import { DiscoveryPublisher } from '../../discovery/publisher.js';
import { DISCOVERY_DB_FILE, SqliteDiscoveryRegistry } from '../../discovery/registry.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { agentEntities } from '../../src/main.js';
import type { MqttPublisher } from '../../src/mqtt/types.js';
import { measureAllocation } from './allocation.js';
import { loadNow, repeat, spread, summarize, type Summary } from './framework.js';

/**
 * Discovery rounds of the agent at 5,000 containers (50 hosts × 100), through the agent's
 * own wiring (`discoveryPublisher` over the data dir, `agentEntities` taking the families
 * afresh each round as the running agent does), against an in-memory MQTT publisher that
 * takes every message at once: what a round costs discovery itself, not the broker.
 */

export const ROUND_HOSTS = 50;
export const ROUND_CONTAINERS_PER_HOST = 100;
const UNPACED = 1e9;

interface Container {
  name: string;
  labels: Record<string, string>;
}

/** An MqttPublisher that takes every message at once and counts them. */
class CountingMqtt implements MqttPublisher {
  sent = 0;
  readonly connected = true;
  publish(): Promise<void> {
    this.sent++;
    return Promise.resolve();
  }
  subscribe(): () => void {
    return () => undefined;
  }
  onConnect(): () => void {
    return () => undefined;
  }
}

function roundsConfig(dataDir: string): Config {
  return configSchema.parse({
    node: { id: 'bench' },
    broker: { mode: 'external', url: 'mqtt://127.0.0.1:1' },
    data_dir: dataDir,
    hosts: Array.from({ length: ROUND_HOSTS }, (_, h) => ({ id: `h${h}` })),
  });
}

/** The containers the "tracker" holds, per host: names and compose labels. */
function siteContainers(): Map<string, Container[]> {
  const out = new Map<string, Container[]>();
  for (let h = 0; h < ROUND_HOSTS; h++) {
    out.set(
      `h${h}`,
      Array.from({ length: ROUND_CONTAINERS_PER_HOST }, (_, c) => ({
        name: `stack${Math.floor(c / 5)}-svc${c % 5}-1`,
        labels: {
          'com.docker.compose.project': `stack${Math.floor(c / 5)}`,
          'com.docker.compose.service': `svc${c % 5}`,
          'com.docker.compose.container-number': '1',
          'org.opencontainers.image.version': '1.2.3',
        },
      })),
    );
  }
  return out;
}

/** The agent's entities, taken afresh each round (containersOf builds new descriptions). */
function entitiesOf(config: Config, site: Map<string, Container[]>): () => AgentEntities {
  return () =>
    agentEntities(config, [
      containersFamily(
        [...site].map(([id, list]) => ({
          id,
          containers: list.map((c) => ({ name: c.name, labels: c.labels, withRestart: true })),
        })),
      ),
    ]);
}

/** Time and bytes allocated per round, with the most configs a round published. */
export interface RoundStats {
  ms: Summary;
  bytes: Summary;
  published: number;
  load: number;
}

export interface RoundFigures {
  configs: number;
  seedMs: number;
  /** The first round after a restart on a data dir that has every config. */
  restart: { ms: number; bytes: number; published: number; load: number };
  unchanged: RoundStats;
  /** One container renamed on one host. */
  changed: RoundStats;
  /** Baseline: a round that builds and hashes every config (no fingerprints). */
  rebuildAll: RoundStats;
}

/** Seeds a data dir with every config published, then measures the agent's rounds on it. */
export async function discoveryRounds(
  log: (m: string) => void,
  runs: number,
): Promise<RoundFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-discovery-rounds-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const config = roundsConfig(dir);
    const site = siteContainers();
    const entities = entitiesOf(config, site);
    const ctx = discoveryContext(config);
    const seedMqtt = new CountingMqtt();
    const registry = await SqliteDiscoveryRegistry.open(join(dir, DISCOVERY_DB_FILE));
    const seed = new DiscoveryPublisher({
      mqtt: seedMqtt,
      registry,
      desired: () => ({ devices: modelDevices(ctx, discoveryModel(config, entities())) }),
      clock: systemClock,
      log: silentLogger(),
      prefix: config.mqtt.discovery_prefix,
      node: config.node.id,
      rate: UNPACED,
      burst: UNPACED,
    });
    stops.push(() => seed.stop());
    let t0 = performance.now();
    const seeded = await seed.sync({ observationOk: false });
    const seedMs = performance.now() - t0;
    log(`discovery rounds: seeded ${seeded.published} configs in ${Math.round(seedMs)} ms`);
    await seed.stop();

    // The agent restarted on that data dir: its first round must publish nothing.
    const mqtt = new CountingMqtt();
    const publisher = await discoveryPublisher(config, mqtt, undefined, silentLogger(), entities);
    stops.push(() => publisher.stop());
    t0 = performance.now();
    const first = await measureAllocation(() => publisher.sync({ observationOk: false }));
    const restart = {
      ms: performance.now() - t0,
      bytes: first.allocation.bytes,
      published: first.result.published,
      load: loadNow(),
    };
    log(`discovery rounds: restart round ${Math.round(restart.ms)} ms, ${restart.published} sent`);

    const round = (p: DiscoveryPublisher) => async () => {
      const start = performance.now();
      const r = await measureAllocation(() => p.sync({ observationOk: true }));
      return { ms: performance.now() - start, bytes: r.allocation.bytes, ...r.result };
    };
    const unchanged = stats(await repeat(runs, round(publisher)));
    log(`discovery rounds: unchanged ${spread(unchanged.ms)} ms`);
    // One container renamed per round (a new compose service on one host), the rest as is.
    const host = site.get('h7')!;
    const changed = stats(
      await repeat(runs, (i) => {
        host[0] = { ...host[0]!, name: `renamed${i}` };
        return round(publisher)();
      }),
    );
    log(`discovery rounds: one container changed ${spread(changed.ms)} ms`);
    // The baseline in the same run: the same registry, every config built and hashed.
    const full = new DiscoveryPublisher({
      mqtt,
      registry: await SqliteDiscoveryRegistry.open(join(dir, DISCOVERY_DB_FILE)),
      desired: () => desiredDiscovery(config, entities()),
      clock: systemClock,
      log: silentLogger(),
      prefix: config.mqtt.discovery_prefix,
      node: config.node.id,
    });
    stops.push(() => full.stop());
    const rebuildAll = stats(await repeat(runs, round(full)));
    log(`discovery rounds: every config rebuilt ${spread(rebuildAll.ms)} ms`);
    return { configs: seeded.published, seedMs, restart, unchanged, changed, rebuildAll };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function stats(
  rounds: ReadonlyArray<{ ms: number; bytes: number; published: number }>,
): RoundStats {
  return {
    ms: summarize(rounds.map((r) => r.ms)),
    bytes: summarize(rounds.map((r) => r.bytes)),
    published: Math.max(...rounds.map((r) => r.published)),
    load: loadNow(),
  };
}
