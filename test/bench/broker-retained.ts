import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAsync, type MqttClient } from 'mqtt';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logger.js';
import { aclRules } from '../../src/mqtt/acl.js';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { useUncachedPacketNumbers } from '../../src/mqtt/packet-writer.js';
import { killOnExit } from '../helpers/process.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { childEnv, LOOPBACK, shippedLaunch } from './agent-process.js';
import { cpuMsOf, mibOf } from './containers.js';
import { loadNow, median, spread, summarize, type Benchmark, type Figure } from './framework.js';

/**
 * Issue 15 point 4, the broker alone: the embedded broker as the agent builds it, holding
 * what it holds at 20,000 containers (200 hosts × 100: five ~1 KiB discovery configs and one
 * ~270-byte state per container, one availability per host), read by a fresh mqtt.js client
 * subscribing as agent-scale-20000's settle check does. The broker runs in a process of its
 * own under the agent's launcher; the messages are first published to it (QoS 1, retained,
 * 100 in flight), which measures its retained writes.
 *
 * Each read runs twice: with the broker's event loop otherwise idle, and with every turn of
 * it also carrying BUSY_MS of other work, as the agent's loop carries its SSH polls (200
 * hosts' inspect output, decrypted and parsed, at a few ms a turn when the agent gets a
 * tenth of a core). A read that gets nothing for STALL_MS is over: the figures then say how
 * many of the messages arrived.
 *
 * BROKER_RETAINED_CPU_PROF=DIR profiles the broker (`--cpu-prof`) into DIR.
 */

const HOSTS = 200;
const CONTAINERS = 100;
const CONFIGS_PER_CONTAINER = 5;
const EXPECTED = HOSTS * (1 + CONTAINERS * (1 + CONFIGS_PER_CONTAINER));
const CONFIG_BYTES = 1000;
const STATE_BYTES = 250;
const PUBLISH_WINDOW = 100;
const BUSY_MS = 3;
const STALL_MS = 20_000;
/** A read is cut off after this long, and says how many messages it got by then. */
const READ_LIMIT_MS = 120_000;
/** BROKER_RETAINED_RUNS: fewer reads, to compare with an older broker quickly. */
const RUNS = Number(process.env.BROKER_RETAINED_RUNS ?? 3);
const BROKER_FLAG = '--broker-retained-child';
const AGENT_USER = 'outpost-agent';

interface Read {
  received: number;
  ms: number;
  connackMs: number;
  cpuMs: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

export const brokerRetainedRead: Benchmark = {
  name: 'broker-retained-read',
  description:
    `The embedded broker alone (src/mqtt/embedded-broker.ts, as the agent builds it, in a process of its own under the agent's launcher) holding what it holds at 200 hosts × 100 containers: ${EXPECTED.toLocaleString('en')} retained messages (${(HOSTS * CONTAINERS * CONFIGS_PER_CONTAINER).toLocaleString('en')} discovery configs of ~1 KiB, ${(HOSTS * CONTAINERS).toLocaleString('en')} states of ~270 B, ${HOSTS} availabilities), published to it first at QoS 1, retained, ${PUBLISH_WINDOW} in flight (its retained writes). ` +
    `Then a fresh mqtt.js client subscribes as agent-scale-20000's settle check does (homeassistant/#, hosts/+/containers/+, hosts/+/availability at QoS 0) and reads everything, ${RUNS} times with the broker's event loop otherwise idle and ${RUNS} times with each turn of it also carrying ${BUSY_MS} ms of other work (a timer), as the agent's loop carries its SSH polls. ` +
    `A read that gets nothing for ${STALL_MS / 1000} s is over (a stall), and any read after ${READ_LIMIT_MS / 1000} s. RSS and CPU are the broker process's.`,
  async run(ctx) {
    const { root } = ctx;
    const log = (m: string) => ctx.log(m);
    const dir = await makeTempDir('bench-broker-retained');
    try {
      let broker = await startBroker(root, dir, 0);
      let fill: { ms: number; cpuMs: number; load: number };
      try {
        log(`  publishing ${EXPECTED} retained messages`);
        fill = await publishAll(broker);
        log(`  published in ${(fill.ms / 1000).toFixed(1)} s`);
      } finally {
        await broker.stop();
      }
      const figures: Figure[] = [
        {
          label: 'retained publishes, QoS 1, to the broker',
          value: (EXPECTED / fill.ms) * 1000,
          unit: 'msg/s',
          note: `${(fill.ms / 1000).toFixed(1)} s; broker CPU ${((fill.cpuMs / EXPECTED) * 1000).toFixed(0)} µs a message`,
          load: fill.load,
        },
      ];
      for (const busy of [0, BUSY_MS]) {
        const reads: Read[] = [];
        const loads: number[] = [];
        broker = await startBroker(root, dir, busy);
        try {
          for (let i = 0; i < RUNS; i++) {
            const r = await readAll(broker.port, broker.pid);
            reads.push(r);
            loads.push(loadNow());
            log(
              `  busy ${busy} ms: ${r.received} of ${EXPECTED} in ${(r.ms / 1000).toFixed(1)} s, ` +
                `load ${loads.at(-1)!.toFixed(2)}`,
            );
          }
        } finally {
          await broker.stop();
        }
        figures.push(...readFigures(busy, reads, median(loads)));
      }
      return figures;
    } finally {
      await removeTempDir(dir);
    }
  },
};

function readFigures(busy: number, reads: readonly Read[], load: number): Figure[] {
  const what = busy === 0 ? 'idle loop' : `${busy} ms of other work a turn`;
  const complete = reads.filter((r) => r.received === EXPECTED).length;
  const rate = summarize(reads.map((r) => (r.received / r.ms) * 1000));
  const secs = summarize(reads.map((r) => r.ms / 1000));
  const rss = summarize(reads.map((r) => r.rssPeakMiB - r.rssBeforeMiB));
  return [
    {
      label: `${what}: reads complete`,
      value: `${complete} of ${reads.length}`,
      unit: '',
      note: `least received ${Math.min(...reads.map((r) => r.received))} of ${EXPECTED}`,
      load,
    },
    {
      label: `${what}: SUBSCRIBE → last message`,
      value: secs.median,
      unit: 's',
      note: spread(secs),
      load,
    },
    {
      label: `${what}: messages received`,
      value: rate.median,
      unit: 'msg/s',
      note: spread(rate, 0),
      load,
    },
    {
      label: `${what}: broker process CPU per 1,000 messages${busy > 0 ? ' (its other work included)' : ''}`,
      value: median(reads.map((r) => (r.cpuMs / r.received) * 1000)),
      unit: 'ms',
      load,
    },
    {
      label: `${what}: broker RSS growth during the read`,
      value: rss.median,
      unit: 'MiB',
      note: `${spread(rss)}; before ${median(reads.map((r) => r.rssBeforeMiB)).toFixed(1)} MiB`,
      load,
    },
  ];
}

interface BrokerProc {
  pid: number;
  port: number;
  password: string;
  stop(): Promise<void>;
}

/** The broker child, under the launcher's node flags and malloc settings. */
async function startBroker(root: string, dir: string, busyMs: number): Promise<BrokerProc> {
  const launch = shippedLaunch(root);
  const prof = process.env.BROKER_RETAINED_CPU_PROF;
  const flags = [...launch.flags, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])];
  const child: ChildProcess = killOnExit(
    spawn(
      process.execPath,
      [...flags, fileURLToPath(import.meta.url), BROKER_FLAG, dir, String(busyMs)],
      {
        env: childEnv(launch),
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    ),
  );
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  const { port, password } = JSON.parse(first) as { port: number; password: string };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    port,
    password,
    async stop() {
      child.stdin!.end(); // the child stops its broker and exits (writing its profile)
      await exited;
    },
  };
}

function client(port: number, login?: { username: string; password: string }): Promise<MqttClient> {
  return connectAsync(`mqtt://${LOOPBACK}:${port}`, {
    protocolVersion: 4,
    clientId: `bench-${Math.random().toString(16).slice(2)}`,
    reconnectPeriod: 0,
    connectTimeout: 60_000,
    ...login,
  });
}

/** Every retained message, published by the agent's login (it owns homeassistant/#). */
async function publishAll(
  broker: BrokerProc,
): Promise<{ ms: number; cpuMs: number; load: number }> {
  const c = await client(broker.port, { username: AGENT_USER, password: broker.password });
  try {
    const config = Buffer.alloc(CONFIG_BYTES, '{"name":"x"}');
    const state = Buffer.alloc(STATE_BYTES, '{"state":"running"}');
    const cpu0 = cpuMsOf(broker.pid);
    const t0 = performance.now();
    let inFlight: Promise<unknown>[] = [];
    for (const m of messages(config, state)) {
      inFlight.push(c.publishAsync(m.topic, m.payload, { qos: 1, retain: true }));
      if (inFlight.length >= PUBLISH_WINDOW) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    const ms = performance.now() - t0;
    return { ms, cpuMs: cpuMsOf(broker.pid) - cpu0, load: loadNow() };
  } finally {
    await c.endAsync();
  }
}

/** The agent's topics at 200 hosts × 100 containers (node `edge`). */
function* messages(config: Buffer, state: Buffer): Generator<{ topic: string; payload: Buffer }> {
  for (let h = 0; h < HOSTS; h++) {
    const host = `outpost/edge/hosts/h${h}`;
    yield { topic: `${host}/availability`, payload: Buffer.from('online') };
    for (let c = 0; c < CONTAINERS; c++) {
      const key = `stack${Math.floor(c / 5)}-svc${c % 5}-1`;
      yield { topic: `${host}/containers/${key}`, payload: state };
      for (const e of ['running', 'state', 'health', 'restarts', 'started']) {
        yield { topic: `homeassistant/sensor/edge_h${h}_${key}_${e}/config`, payload: config };
      }
    }
  }
}

/** A fresh client's read of everything retained, as agent-scale-20000's settle check. */
async function readAll(port: number, pid: number): Promise<Read> {
  const rssBeforeMiB = mibOf(pid, 'VmRSS');
  let rssPeakMiB = rssBeforeMiB;
  const sampler = setInterval(() => (rssPeakMiB = Math.max(rssPeakMiB, mibOf(pid, 'VmRSS'))), 200);
  const c0 = performance.now();
  const c = await client(port);
  try {
    const connackMs = performance.now() - c0;
    let received = 0;
    let last = performance.now();
    c.on('message', (_t, payload, packet) => {
      if (packet.retain && payload.length > 0) received++;
      last = performance.now();
    });
    const cpu0 = cpuMsOf(pid);
    const t0 = performance.now();
    last = t0;
    await c.subscribeAsync({
      'homeassistant/#': { qos: 0 },
      'outpost/edge/hosts/+/containers/+': { qos: 0 },
      'outpost/edge/hosts/+/availability': { qos: 0 },
    });
    while (
      received < EXPECTED &&
      performance.now() - last < STALL_MS &&
      performance.now() - t0 < READ_LIMIT_MS
    ) {
      await sleep(100);
    }
    return {
      received,
      ms: last - t0,
      connackMs,
      cpuMs: cpuMsOf(pid) - cpu0,
      rssBeforeMiB,
      rssPeakMiB,
    };
  } finally {
    clearInterval(sampler);
    await c.endAsync(true);
  }
}

/** The child: the broker, and the other work on its loop; stops when stdin closes. */
async function brokerChild(dir: string, busyMs: number): Promise<void> {
  useUncachedPacketNumbers(); // as the agent does at start (src/main.ts)
  const { config } = parseConfig(
    `node: { id: edge }\ndata_dir: ${JSON.stringify(dir)}\n` +
      `broker: { listen: "${LOOPBACK}:0", allow_anonymous: true }\n`,
    { env: {} },
  );
  const broker = new EmbeddedBroker({
    config: config.broker,
    dataDir: config.data_dir,
    acl: aclRules('outpost', 'edge', 'homeassistant'),
    availabilityTopic: 'outpost/edge/availability',
    agentClientId: 'outpost-edge',
    log: silentLogger(),
  });
  await broker.start();
  const busy =
    busyMs > 0
      ? setInterval(() => {
          const end = performance.now() + busyMs;
          while (performance.now() < end); // the agent's other work, in this turn
        }, 1)
      : undefined;
  process.stdout.write(
    `${JSON.stringify({ port: broker.port, password: broker.localEndpoint().password })}\n`,
  );
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  clearInterval(busy);
  await broker.stop();
  process.exit(0);
}

if (process.argv[2] === BROKER_FLAG) await brokerChild(process.argv[3]!, Number(process.argv[4]));
