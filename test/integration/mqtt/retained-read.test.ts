import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { observer } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * Issue 15 (agent-scale-20000): a fresh client reading every retained message of a large
 * site gets every one of them, each with its payload, through the embedded broker as the
 * agent builds it (src/mqtt/client-queue.ts hands them to aedes a window at a time).
 */
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HOSTS = 40;
const CONTAINERS = 100;
/** Five discovery configs and one state per container: 24,000 messages, plus availabilities. */
const ENTITIES = ['running', 'state', 'health', 'restarts', 'started'];

async function broker() {
  const dir = await makeTempDir('retained-read');
  cleanups.push(() => removeTempDir(dir));
  const started = await startEmbeddedBroker({
    dataDir: dir,
    yaml: 'broker: { listen: "127.0.0.1:0", allow_anonymous: true }\n',
  });
  cleanups.push(() => started.broker.stop());
  return started;
}

async function client(url: string, login = {}): Promise<MqttClient> {
  const c = await observer(url, { connectTimeout: 60_000, ...login });
  cleanups.push(() => c.endAsync(true));
  return c;
}

/** The site's retained messages: topic → payload, each payload naming its topic. */
function site(): Map<string, string> {
  const out = new Map<string, string>();
  for (let h = 0; h < HOSTS; h++) {
    out.set(`outpost/edge/hosts/h${h}/availability`, 'online');
    for (let c = 0; c < CONTAINERS; c++) {
      const state = `outpost/edge/hosts/h${h}/containers/app${c}`;
      out.set(state, JSON.stringify({ topic: state, pad: 's'.repeat(220) }));
      for (const e of ENTITIES) {
        const config = `homeassistant/sensor/edge_h${h}_app${c}_${e}/config`;
        out.set(config, JSON.stringify({ topic: config, pad: 'c'.repeat(950) }));
      }
    }
  }
  return out;
}

describe('embedded broker: a fresh client reads a large retained set', () => {
  it('gets every retained message of 4,000 containers, each with its payload', async () => {
    const b = await broker();
    const agent = b.broker.localEndpoint();
    const pub = await client(b.url, { username: agent.username, password: agent.password });
    const expected = site();
    let batch: Promise<unknown>[] = [];
    for (const [topic, payload] of expected) {
      batch.push(pub.publishAsync(topic, payload, { qos: 1, retain: true }));
      if (batch.length < 200) continue;
      await Promise.all(batch);
      batch = [];
    }
    await Promise.all(batch);
    expect(expected.size).toBeGreaterThanOrEqual(24_000);

    // As agent-scale-20000's settle check subscribes (Home Assistant's filter among them).
    const reader = await client(b.url);
    const got = new Map<string, string>();
    let duplicates = 0;
    reader.on('message', (topic, payload, packet) => {
      if (!packet.retain) return;
      if (got.has(topic)) duplicates++;
      got.set(topic, payload.toString());
    });
    await reader.subscribeAsync({
      'homeassistant/#': { qos: 0 },
      'outpost/edge/hosts/+/containers/+': { qos: 0 },
      'outpost/edge/hosts/+/availability': { qos: 0 },
    });
    await eventually(() => expect(got.size).toBe(expected.size), {
      timeout: 240_000,
      interval: 500,
    });
    const wrong = [...expected].filter(([topic, payload]) => got.get(topic) !== payload);
    expect(wrong.map(([topic]) => topic)).toEqual([]);
    expect(duplicates).toBe(0);
  }, 600_000);
});
