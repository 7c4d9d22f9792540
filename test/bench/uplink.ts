import type { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { UNLIMITED } from '../../bridges/uplink/rate-limit.js';
import { TopicMap } from '../../bridges/uplink/topic-map.js';
import { UplinkBridge, upstreamMessage } from '../../bridges/uplink/uplink-bridge.js';
import { SEVERITIES, type NewEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/logger.js';
import { MqttLink } from '../../src/mqtt/client.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { startMosquitto, type MosquittoBroker } from '../helpers/mosquitto.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { repeat, summarize, type Benchmark, type Figure } from './framework.js';

/**
 * Issue 4 point 8: the uplink's replay against a real mosquitto at QoS 1, pacing off,
 * beside a plain mqtt.js publisher sending the same messages (topic, payload bytes, MQTT 5
 * user property) with the same in-flight window; and the drain time of a 1,000,000-event
 * backlog.
 */

const REPLAY_EVENTS = 100_000;
const DRAIN_EVENTS = 1_000_000;
const WINDOW = 1000;
const RUNS = 5;
const TARGET_SHARE = 0.8;
const TARGET_DRAIN_S = 30;
const ROOT = { base: 'outpost', node: 'bench-site' };
const PREFIX = 'sites/bench-site';
const log = silentLogger();

function events(n: number, from: number): NewEvent[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      type: i % 3 === 0 ? 'container_down' : 'disk_pressure',
      severity: SEVERITIES[i % SEVERITIES.length]!,
      subject: `local/container-${i % 40}`,
      data: { exit_code: 137, restarts: i % 7, image: 'eclipse-mosquitto:2.0.18', i },
    };
  });
}

async function fill(store: SqliteEventStore, n: number): Promise<void> {
  // 10,000 per call: one commit each (the store's maxBatch).
  for (let i = 0; i < n; i += 10_000) await store.appendMany(events(Math.min(10_000, n - i), i));
}

/** Seconds until the uplink cursor `sink` has acknowledged `n` events from a fresh start. */
async function drain(store: SqliteEventStore, url: string, sink: string, n: number) {
  const map = new TopicMap(ROOT, PREFIX);
  const upstream = new MqttLink({
    url,
    clientId: `bench-${sink}`,
    protocol: '5',
    availabilityTopic: map.availability,
    keepaliveS: 30,
    reconnectMinMs: 100,
    reconnectMaxMs: 1000,
    queueLimit: WINDOW,
    log,
  });
  const bridge = new UplinkBridge({
    store,
    upstream,
    root: ROOT,
    topicPrefix: PREFIX,
    limits: UNLIMITED,
    window: WINDOW,
    sinkName: sink,
    log,
  });
  const t0 = performance.now();
  await bridge.start();
  while (bridge.status().acked < n) await new Promise((r) => setTimeout(r, 2));
  const s = (performance.now() - t0) / 1000;
  await bridge.stop();
  return s;
}

interface Message {
  topic: string;
  payload: string | Buffer;
  id: string;
}

/** Seconds for a plain mqtt.js client to publish `msgs` at QoS 1 with `WINDOW` in flight. */
async function plain(url: string, msgs: readonly Message[]): Promise<number> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `bench-plain-${Math.random().toString(16).slice(2, 8)}`,
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const pump = (): void => {
      while (sent < msgs.length && sent - acked < WINDOW) {
        const m = msgs[sent++]!;
        const opts = { qos: 1 as const, properties: { userProperties: { event_id: m.id } } };
        client.publish(m.topic, m.payload, opts, (err) => {
          if (err) return reject(err);
          if (++acked === msgs.length) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const s = (performance.now() - t0) / 1000;
  await client.endAsync();
  return s;
}

async function withBroker<T>(fn: (b: MosquittoBroker) => Promise<T>): Promise<T> {
  const broker = await startMosquitto({ listeners: ['anonymous'] });
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}

async function withStore<T>(fn: (s: SqliteEventStore) => Promise<T>): Promise<T> {
  const dir = await makeTempDir('bench-uplink');
  const store = SqliteEventStore.open({ dataDir: dir, node: ROOT.node });
  try {
    return await fn(store);
  } finally {
    await store.close();
    await removeTempDir(dir);
  }
}

async function replayVsPlain(log: (m: string) => void) {
  return withBroker((broker) =>
    withStore(async (store) => {
      await fill(store, REPLAY_EVENTS);
      // The very messages the replay sends: same topic, same payload bytes, same id.
      const topic = new TopicMap(ROOT, PREFIX).events;
      const msgs = (await store.query({ limit: REPLAY_EVENTS })).map((e) => ({
        ...upstreamMessage(topic, e),
        id: e.id,
      }));
      log('uplink: warm-up');
      await plain(broker.url, msgs.slice(0, 20_000));
      await drain(store, broker.url, 'warm-up', 20_000);
      return repeat(RUNS, async (i) => {
        // Alternating which side goes first, so a slow spell on this shared machine does
        // not always land on the same side.
        const runPlain = async () => REPLAY_EVENTS / (await plain(broker.url, msgs));
        const runReplay = async () =>
          REPLAY_EVENTS / (await drain(store, broker.url, `run-${i}`, REPLAY_EVENTS));
        const p = i % 2 === 0 ? await runPlain() : 0;
        const r = await runReplay();
        const q = i % 2 === 0 ? p : await runPlain();
        log(`uplink: run ${i + 1}/${RUNS}: replay ${Math.round(r)}/s, plain ${Math.round(q)}/s`);
        return { replay: r, plain: q };
      });
    }),
  );
}

async function millionDrain(log: (m: string) => void) {
  return withBroker((broker) =>
    withStore(async (store) => {
      const t0 = performance.now();
      await fill(store, DRAIN_EVENTS);
      const fillS = (performance.now() - t0) / 1000;
      log(`uplink: 1,000,000 events stored in ${fillS.toFixed(1)} s; draining`);
      const s = await drain(store, broker.url, 'million', DRAIN_EVENTS);
      log(`uplink: drained in ${s.toFixed(1)} s`);
      return { fillS, drainS: s };
    }),
  );
}

const perSec = (v: number) => Math.round(v);

export const uplinkReplay: Benchmark = {
  name: 'uplink-replay',
  description:
    `The uplink's replay to a real mosquitto 2 on 127.0.0.1 at QoS 1 over MQTT 5, pacing off, ` +
    `${WINDOW} messages in flight. First the drain time of a ` +
    `${DRAIN_EVENTS.toLocaleString('en')}-event backlog (filled with appendMany, 10,000 per ` +
    `commit). Then ${REPLAY_EVENTS.toLocaleString('en')} stored events replayed through the ` +
    `uplink's cursor (SQLite read, JSON, user property event_id, PUBACK, cursor ack) against a ` +
    `plain mqtt.js 5 client publishing the same messages (same topic, payload and user ` +
    `property, prepared in advance) with the same in-flight window, alternating which goes ` +
    `first, medians of ${RUNS} runs after a warm-up. Targets: replay ≥ ${TARGET_SHARE * 100} % ` +
    `of the plain publisher; the million drained in < ${TARGET_DRAIN_S} s.`,
  async run(ctx) {
    // The million first, in a fresh process heap: what an agent draining after a long
    // outage has, rather than a heap already churned by the side-by-side runs.
    const million = await millionDrain((m) => ctx.log(m));
    const runs = await replayVsPlain((m) => ctx.log(m));
    return figures(runs, million);
  },
};

function figures(
  runs: { replay: number; plain: number }[],
  million: { fillS: number; drainS: number },
): Figure[] {
  const replay = summarize(runs.map((r) => r.replay));
  const plainS = summarize(runs.map((r) => r.plain));
  const share = summarize(runs.map((r) => r.replay / r.plain));
  const spread = (s: { min: number; max: number }) => `min ${perSec(s.min)}, max ${perSec(s.max)}`;
  return [
    {
      label: 'uplink replay (median)',
      value: perSec(replay.median),
      unit: 'msg/s',
      note: spread(replay),
    },
    {
      label: 'plain mqtt.js publisher (median)',
      value: perSec(plainS.median),
      unit: 'msg/s',
      note: `${spread(plainS)}; baseline`,
    },
    {
      label: 'replay / plain (median of per-run ratios)',
      value: share.median,
      unit: '×',
      note: `min ${share.min.toFixed(2)}, max ${share.max.toFixed(2)}`,
    },
    {
      label: `target ≥ ${TARGET_SHARE * 100} % of plain`,
      value: share.median >= TARGET_SHARE ? 'pass' : 'FAIL',
      unit: '',
      note: `${(share.median * 100).toFixed(0)} %`,
    },
    {
      label: '1,000,000-event backlog: drain time',
      value: Number(million.drainS.toFixed(1)),
      unit: 's',
      note: `${perSec(DRAIN_EVENTS / million.drainS)} msg/s; filled in ${million.fillS.toFixed(1)} s`,
    },
    {
      label: `target < ${TARGET_DRAIN_S} s`,
      value: million.drainS < TARGET_DRAIN_S ? 'pass' : 'FAIL',
      unit: '',
    },
  ];
}
