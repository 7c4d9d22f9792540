import { spawn, type ChildProcess } from 'node:child_process';
import { killOnExit } from '../helpers/process.js';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAsync, type MqttClient } from 'mqtt';
import { desiredConfigs, modelDevices } from '../../discovery/model.js';
import { modelOf, type HostSpec, type SiteSpec } from '../helpers/discovery-site.js';
import { containerKey } from '../../discovery/entities/containers.js';
import type { DiscoveryConfig, DiscoveryContext } from '../../discovery/entity.js';
import { DiscoveryPublisher } from '../../discovery/publisher.js';
import { MemoryDiscoveryRegistry, type RegistryEntry } from '../../discovery/registry.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { ManualClock, systemClock, type Clock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { topics } from '../../src/core/topics.js';
import { VERSION } from '../../src/core/version.js';
import { MqttLink } from '../../src/mqtt/client.js';
import { linkOptions, topicRoot } from '../../src/mqtt/link-options.js';
import { StatePublisher } from '../../src/mqtt/state-publisher.js';
import { canConnect, freePort, LOOPBACK } from './agent-process.js';
import {
  ROUND_CONTAINERS_PER_HOST,
  ROUND_HOSTS,
  discoveryRounds,
  type RoundFigures,
  type RoundStats,
} from './discovery-rounds.js';
import { ratio, repeat, spread, summarize, type Benchmark, type Figure } from './framework.js';

/**
 * Discovery traffic of a site with about a thousand entities, against a real mosquitto on
 * 127.0.0.1: how long HA's birth message takes to be answered with every config and state,
 * paced as shipped and unpaced, and what a quiet site sends per hour.
 */

const HOSTS = 4;
const CONTAINERS_PER_HOST = 40;
const MOUNTS = ['/', '/var/lib/docker'] as const;
const NODE_ID = 'bench';
/** The issue's promise for a paced republish of the whole site. */
const TARGET_MS = 5_000;
const RUNS = 5;
/** High enough that the pacer never waits (a full bucket of that many tokens). */
const UNPACED = 1e9;
/** A simulated hour of collectors re-reporting every 30 s. */
const REPORT_EVERY_MS = 30_000;
const HOUR_MS = 3_600_000;
const QUIET_MS = 300;
const ROUND_TIMEOUT_MS = 60_000;

/** Runs of each 5,000-container round (a baseline round builds ~30,000 configs). */
const ROUND_RUNS = 3;

const ms = (v: number) => Math.round(v * 10) / 10;
const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

/** The agent's config for this site: schema defaults except node id, broker, heartbeat. */
function siteConfig(url: string, heartbeat?: string): Config {
  return configSchema.parse({
    node: { id: NODE_ID },
    broker: { mode: 'external', url },
    discovery: heartbeat === undefined ? {} : { heartbeat },
  });
}

// ---------------------------------------------------------------------------------------
// The site: 4 hosts (1 local, 3 remote), 40 compose containers and 2 mounts each.

function siteSpec(): SiteSpec {
  const hosts: HostSpec[] = Array.from({ length: HOSTS }, (_, h) => ({
    id: h === 0 ? 'local' : `node${h}`,
    name: h === 0 ? 'local' : `node ${h}`,
    remote: h > 0,
    // modelOf describes containers only on hosts whose engine is watched (as the agent
    // does): without this the site had no container entities at all (30 configs, not 990).
    watchesContainers: true,
    containers: Array.from({ length: CONTAINERS_PER_HOST }, (_, c) => ({
      name: `stack${Math.floor(c / 5)}-svc${c % 5}-1`,
      labels: {
        'com.docker.compose.project': `stack${Math.floor(c / 5)}`,
        'com.docker.compose.service': `svc${c % 5}`,
        'com.docker.compose.container-number': '1',
      },
    })),
    disks: MOUNTS.map((mount) => ({ mount })),
  }));
  return { agent: { node: NODE_ID, name: 'outpost bench', swVersion: VERSION }, hosts };
}

interface StateValue {
  topic: string;
  /** Builds the value afresh, as a collector re-reporting an unchanged subject does. */
  value(): unknown;
}

/** One retained state per container and per mount. */
function siteStates(config: Config, site: SiteSpec): StateValue[] {
  const root = topicRoot(config);
  const out: StateValue[] = [];
  for (const h of site.hosts) {
    for (const c of h.containers ?? []) {
      out.push({
        topic: topics.container(root, h.id, containerKey(c)),
        value: () => ({
          state: 'running',
          health: 'healthy',
          restart_count: 0,
          started_at: '2024-05-01T08:00:00Z',
        }),
      });
    }
    for (const d of h.disks ?? []) {
      out.push({
        topic: topics.disk(root, h.id, d.mount),
        value: () => ({ used_pct: 41.7, free: 187_452_923_904, level: 'ok' }),
      });
    }
  }
  return out;
}

interface Site {
  readonly configs: readonly DiscoveryConfig[];
  readonly states: readonly StateValue[];
  readonly link: MqttLink;
  readonly statePublisher: StatePublisher;
  readonly discovery: DiscoveryPublisher;
  stop(): Promise<void>;
}

/**
 * A site in steady state: every config published and in the registry, every state
 * retained. `rate`/`burst` are those of the measured publisher (the schema default, or
 * unpaced); seeding always goes unpaced.
 */
async function startSite(
  config: Config,
  opts: { rate: number; burst?: number; stateClock?: Clock },
): Promise<Site> {
  const site = siteSpec();
  const model = modelOf(site);
  const ctx: DiscoveryContext = {
    prefix: config.mqtt.discovery_prefix,
    root: topicRoot(config),
    origin: { name: 'outpost', sw_version: VERSION },
  };
  // As the agent takes it: per device, with fingerprints, so a steady round builds nothing.
  const desired = () => ({ devices: modelDevices(ctx, model) });
  const configs = desiredConfigs(ctx, model);
  const states = siteStates(config, site);
  const log = silentLogger();
  const link = new MqttLink({
    ...linkOptions(config, log),
    clientId: `outpost-bench-${randomBytes(4).toString('hex')}`,
  });
  const statePublisher = new StatePublisher({
    mqtt: link,
    log,
    clock: opts.stateClock ?? systemClock,
    heartbeatMs: config.discovery.heartbeat,
  });
  const backing = new Map<string, RegistryEntry>();
  const common = {
    mqtt: link,
    desired,
    currentStates: () => statePublisher.current(),
    clock: systemClock,
    log,
    prefix: config.mqtt.discovery_prefix,
    node: config.node.id,
    pruneAfter: config.discovery.prune_after,
    deviceBased: config.discovery.device_based,
  };
  const seed = new DiscoveryPublisher({
    ...common,
    registry: new MemoryDiscoveryRegistry(backing),
    rate: UNPACED,
    burst: UNPACED,
  });
  const discovery = new DiscoveryPublisher({
    ...common,
    registry: new MemoryDiscoveryRegistry(backing),
    rate: opts.rate,
    burst: opts.burst,
  });
  let started = false;
  const stop = async () => {
    if (started) await discovery.stop();
    await statePublisher.stop();
    await seed.stop();
    await link.stop();
  };
  try {
    await link.start();
    if (!link.connected) throw new Error(`could not connect to ${config.broker.url}`);
    const seeded = await seed.sync({ observationOk: false });
    if (seeded.published !== configs.length || seeded.failed > 0) {
      throw new Error(`seeding published ${seeded.published}/${configs.length} configs`);
    }
    await Promise.all(states.map((s) => statePublisher.set(s.topic, s.value())));
    await statePublisher.start();
    await discovery.start();
    started = true;
    // Queued behind the initial round: the registry holds everything, so both send nothing.
    const steady = await discovery.sync();
    if (steady.published + steady.removed + steady.clearedStates > 0) {
      throw new Error(`not in steady state: ${JSON.stringify(steady)}`);
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { configs, states, link, statePublisher, discovery, stop };
}

// ---------------------------------------------------------------------------------------
// The observer: a plain mqtt.js client, as HA is.

/** Size of a PUBLISH packet as a 3.1.1 subscriber receives it (fixed header included). */
function publishWireBytes(topic: string, payload: Buffer, qos: number): number {
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + payload.length;
  let lengthBytes = 1;
  for (let n = remaining; n >= 128; n = Math.floor(n / 128)) lengthBytes++;
  return 1 + lengthBytes + remaining;
}

class Observer {
  readonly client: MqttClient;
  retained = 0;
  fresh = 0;
  freshBytes = 0;
  freshPayloadBytes = 0;
  readonly freshTopics = new Map<string, number>();
  #lastAt = performance.now();
  #pending: Set<string> | undefined;
  #donePending: ((at: number) => void) | undefined;
  readonly #ignore: Set<string>;

  constructor(client: MqttClient, ignore: readonly string[]) {
    this.client = client;
    this.#ignore = new Set(ignore);
    client.on('message', (topic, payload, packet) => {
      this.#lastAt = performance.now();
      if (this.#ignore.has(topic)) return;
      if (packet.retain) {
        this.retained++;
        return;
      }
      this.fresh++;
      this.freshBytes += publishWireBytes(topic, payload, packet.qos);
      this.freshPayloadBytes += payload.length;
      this.freshTopics.set(topic, (this.freshTopics.get(topic) ?? 0) + 1);
      if (this.#pending?.delete(topic) && this.#pending.size === 0) {
        this.#donePending?.(this.#lastAt);
      }
    });
  }

  static async connect(url: string, filters: readonly string[], ignore: readonly string[]) {
    const client = await connectAsync(url, {
      protocolVersion: 4,
      clientId: `outpost-bench-ha-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    const obs = new Observer(client, ignore);
    try {
      await client.subscribeAsync([...filters], { qos: 1 });
    } catch (err) {
      await client.endAsync(true).catch(() => undefined);
      throw err;
    }
    return obs;
  }

  reset(): void {
    this.fresh = 0;
    this.freshBytes = 0;
    this.freshPayloadBytes = 0;
    this.freshTopics.clear();
  }

  /** Resolves with the performance.now() at which a fresh copy of every topic had arrived. */
  awaitAll(expected: Iterable<string>, timeoutMs = ROUND_TIMEOUT_MS): Promise<number> {
    const pending = new Set(expected);
    for (const t of this.freshTopics.keys()) pending.delete(t);
    if (pending.size === 0) return Promise.resolve(performance.now());
    this.#pending = pending;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        reject(new Error(`${pending.size} topics still missing after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#donePending = (at) => {
        clearTimeout(timer);
        this.#pending = undefined;
        this.#donePending = undefined;
        resolve(at);
      };
    });
  }

  /** Waits until nothing has arrived for `quietMs` (and at least `minRetained` retained). */
  async settle(minRetained = 0, quietMs = QUIET_MS): Promise<void> {
    const end = performance.now() + ROUND_TIMEOUT_MS;
    while (this.retained < minRetained || performance.now() - this.#lastAt < quietMs) {
      if (performance.now() > end) {
        throw new Error(`observer did not settle (${this.retained}/${minRetained} retained)`);
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}

function observerFilters(config: Config): string[] {
  return [`${config.mqtt.discovery_prefix}/#`, `${config.mqtt.base_topic}/${config.node.id}/#`];
}

// ---------------------------------------------------------------------------------------
// (a) HA's birth message → every config and state again.

interface BirthRound {
  ms: number;
  messages: number;
  bytes: number;
  payloadBytes: number;
  duplicates: number;
}

async function birthRounds(
  ctx: { log(message: string): void },
  url: string,
  rate: number,
  tag: string,
): Promise<{ rounds: BirthRound[]; configs: number; states: number }> {
  const config = siteConfig(url);
  const site = await startSite(config, {
    rate,
    burst: rate === UNPACED ? UNPACED : undefined,
  });
  const statusTopic = topics.haStatus(config.mqtt.discovery_prefix);
  let obs: Observer | undefined;
  try {
    obs = await Observer.connect(url, observerFilters(config), [statusTopic]);
    await obs.settle(site.configs.length + site.states.length);
    const expected = [...site.configs.map((c) => c.topic), ...site.states.map((s) => s.topic)];
    const o = obs;
    const once = async (i: number, warmUp: boolean): Promise<BirthRound> => {
      o.reset();
      const t0 = performance.now();
      const done = o.awaitAll(expected);
      await o.client.publishAsync(statusTopic, 'online', { qos: 1 });
      const at = await done;
      await o.settle();
      const round: BirthRound = {
        ms: at - t0,
        messages: o.fresh,
        bytes: o.freshBytes,
        payloadBytes: o.freshPayloadBytes,
        duplicates: o.fresh - o.freshTopics.size,
      };
      ctx.log(
        `discovery: birth ${tag} ${warmUp ? 'warm-up' : `run ${i + 1}/${RUNS}`}: ` +
          `${ms(round.ms)} ms, ${round.messages} messages, ${kib(round.bytes)} KiB`,
      );
      return round;
    };
    await once(0, true);
    const rounds = await repeat(RUNS, (i) => once(i, false));
    return { rounds, configs: site.configs.length, states: site.states.length };
  } finally {
    await obs?.stop();
    await site.stop();
  }
}

// ---------------------------------------------------------------------------------------
// (b) A quiet hour: identical re-reports every 30 s, steady discovery rounds.

interface QuietHour {
  messages: number;
  bytes: number;
  states: number;
  configMessages: number;
  stateMessages: number;
}

async function quietHour(url: string, heartbeat: string | undefined): Promise<QuietHour> {
  const config = siteConfig(url, heartbeat);
  const clock = new ManualClock(Date.now());
  const site = await startSite(config, { rate: config.discovery.rate, stateClock: clock });
  const marker = `${config.mqtt.base_topic}/${config.node.id}/bench/marker`;
  let obs: Observer | undefined;
  try {
    obs = await Observer.connect(url, observerFilters(config), [marker]);
    await obs.settle(site.configs.length + site.states.length);
    obs.reset();
    for (let t = 0; t < HOUR_MS; t += REPORT_EVERY_MS) {
      clock.advance(REPORT_EVERY_MS);
      await Promise.all(site.states.map((s) => site.statePublisher.set(s.topic, s.value())));
      await site.discovery.sync();
    }
    // Everything the link sent before the marker reaches the observer before it.
    const o = obs;
    const markerSeen = new Promise<void>((resolve) =>
      o.client.on('message', (topic) => {
        if (topic === marker) resolve();
      }),
    );
    await site.link.publish(marker, 'end', { qos: 1 });
    await Promise.race([
      markerSeen,
      sleep(ROUND_TIMEOUT_MS).then(() => {
        throw new Error('the end marker never arrived');
      }),
    ]);
    await o.settle();
    const prefix = `${config.mqtt.discovery_prefix}/`;
    let configMessages = 0;
    for (const [topic, n] of o.freshTopics) if (topic.startsWith(prefix)) configMessages += n;
    return {
      messages: o.fresh,
      bytes: o.freshBytes,
      states: site.states.length,
      configMessages,
      stateMessages: o.fresh - configMessages,
    };
  } finally {
    await obs?.stop();
    await site.stop();
  }
}

// ---------------------------------------------------------------------------------------
// A mosquitto of our own on a random 127.0.0.1 port.

interface Broker {
  url: string;
  stop(): Promise<void>;
}

function mosquittoBinary(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, 'mosquitto');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new Error('mosquitto is not installed (apt-get install mosquitto)');
}

async function startMosquitto(): Promise<Broker> {
  const bin = mosquittoBinary();
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-mosquitto-'));
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    // A QoS 1 subscriber must never lose a message of a 1,000-message burst to the
    // default 1,000-message queue limit, or the round would never complete.
    writeFileSync(
      conf,
      [
        'persistence false',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'max_queued_messages 100000',
        `listener ${port} ${LOOPBACK}`,
        'allow_anonymous true',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = killOnExit(
      spawn(bin, ['-c', conf], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const running = () => child.exitCode === null && child.signalCode === null;
    const stop = async () => {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const deadline = performance.now() + 10_000;
    while (running() && !(await canConnect(port)) && performance.now() < deadline) {
      await sleep(20);
    }
    if (running() && (await canConnect(port))) {
      return { url: `mqtt://${LOOPBACK}:${port}`, stop };
    }
    await stop();
    if (/address already in use/i.test(stderr) && attempt < 3) continue;
    throw new Error(`mosquitto did not start on ${LOOPBACK}:${port}: ${stderr.trim()}`);
  }
}

// ---------------------------------------------------------------------------------------
// (c) Rounds at 5,000 containers (test/bench/discovery-rounds.ts).

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100;

/** Main before per-device rounds (ef10a49), measured the same way in this worktree. */
const MAIN = {
  unchanged: '1.82 MiB, 22 ms',
  changed: '616 MiB, 20,093 ms',
  restart: '401 MiB, 13,083 ms',
  load: 14.9,
};

function roundFigures(r: RoundFigures): Figure[] {
  const site = `${ROUND_HOSTS} hosts × ${ROUND_CONTAINERS_PER_HOST} containers`;
  const pair = (s: RoundStats, tag: string, main: string | undefined): Figure[] => [
    {
      label: `round at 5,000 containers, ${tag}: time (median)`,
      value: ms(s.ms.median),
      unit: 'ms',
      note: `${spread(s.ms)}; ${s.published} configs sent`,
      load: s.load,
    },
    {
      label: `round at 5,000 containers, ${tag}: bytes allocated (median)`,
      value: mib(s.bytes.median),
      unit: 'MiB',
      note:
        `${spread({ ...s.bytes, median: mib(s.bytes.median), min: mib(s.bytes.min), max: mib(s.bytes.max) }, 2)} MiB` +
        (main ? `; main before per-device rounds: ${main} (load ${MAIN.load})` : ''),
      load: s.load,
    },
  ];
  return [
    {
      label: 'entities at 5,000 containers (discovery configs)',
      value: r.configs,
      unit: '',
      note: `${site}; seeded unpaced in ${Math.round(r.seedMs)} ms`,
    },
    ...pair(r.unchanged, 'nothing changed', MAIN.unchanged),
    ...pair(r.changed, 'one container renamed', MAIN.changed),
    ...pair(r.rebuildAll, 'baseline: every config rebuilt and hashed', undefined),
    {
      label: 'one container renamed / every config rebuilt, bytes',
      value: ratio(r.changed.bytes.median, r.rebuildAll.bytes.median),
      unit: '×',
    },
    {
      label: 'first round after a restart (nothing changed)',
      value: ms(r.restart.ms),
      unit: 'ms',
      note:
        `${mib(r.restart.bytes)} MiB allocated, ${r.restart.published} configs sent ` +
        `(expected 0); builds every device once; main: ${MAIN.restart}`,
      load: r.restart.load,
    },
  ];
}

// ---------------------------------------------------------------------------------------

export const discoveryBench: Benchmark = {
  name: 'discovery',
  description:
    `A site of ${HOSTS} hosts × ${CONTAINERS_PER_HOST} compose containers and ${MOUNTS.length} ` +
    'mounts (desiredConfigs over the agent, host, container and disk entity families), in ' +
    'steady state (registry and broker hold every config, a StatePublisher one state per ' +
    'container and mount), over an MqttLink with the schema-default settings to a real ' +
    'mosquitto 2 on 127.0.0.1. (a) A plain 3.1.1 subscriber on `homeassistant/#` and the ' +
    'node topics publishes `online` to `homeassistant/status` and times until it has a ' +
    `fresh copy of every config and state; paced at the schema's discovery.rate (burst 1, ` +
    'as the agent runs) and unpaced (rate and burst 1e9); ' +
    `median of ${RUNS} runs ` +
    `after 1 warm-up, target < ${TARGET_MS / 1000} s paced. Bytes are PUBLISH packets as ` +
    'the subscriber receives them. (b) One hour on a ManualClock: every state re-reported ' +
    `unchanged every ${REPORT_EVERY_MS / 1000} s plus a discovery sync round, heartbeat ` +
    'off (default) and 1h; counted at the subscriber. The broker allows 100,000 queued ' +
    "messages per client (default 1,000). (c) The agent's own discovery wiring " +
    '(discoveryPublisher on a data dir, agentEntities taken afresh each round) at ' +
    `${ROUND_HOSTS} hosts × ${ROUND_CONTAINERS_PER_HOST} containers against an in-memory ` +
    'MQTT publisher: time and V8 bytes allocated (measureAllocation) per round with nothing ' +
    'changed and with one container renamed, beside a baseline round in the same run that ' +
    `builds and hashes every config; ${ROUND_RUNS} runs each, after seeding the registry and ` +
    'a first round after restart.',
  async run(ctx) {
    const broker = await startMosquitto();
    try {
      const defaults = siteConfig(broker.url);
      const defaultRate = defaults.discovery.rate;
      const paced = await birthRounds(ctx, broker.url, defaultRate, `paced ${defaultRate}/s`);
      const unpaced = await birthRounds(ctx, broker.url, UNPACED, 'unpaced');
      const quietOff = await quietHour(broker.url, undefined);
      ctx.log(`discovery: quiet hour, heartbeat off: ${quietOff.messages} messages`);
      const quietHourly = await quietHour(broker.url, '1h');
      ctx.log(`discovery: quiet hour, heartbeat 1h: ${quietHourly.messages} messages`);
      const rounds = await discoveryRounds((m) => ctx.log(m), ROUND_RUNS);

      const expected = paced.configs + paced.states;
      const stat = (r: { rounds: BirthRound[] }) => ({
        ms: summarize(r.rounds.map((x) => x.ms)),
        messages: summarize(r.rounds.map((x) => x.messages)),
        bytes: summarize(r.rounds.map((x) => x.bytes)),
        payload: summarize(r.rounds.map((x) => x.payloadBytes)),
        duplicates: Math.max(...r.rounds.map((x) => x.duplicates)),
      });
      const p = stat(paced);
      const u = stat(unpaced);
      const rateOf = (s: ReturnType<typeof stat>) =>
        Math.round(s.messages.median / (s.ms.median / 1000));
      const birth = (s: ReturnType<typeof stat>, tag: string): Figure[] => [
        {
          label: `birth → all configs + states, ${tag} (median)`,
          value: ms(s.ms.median),
          unit: 'ms',
          note: `min ${ms(s.ms.min)}, max ${ms(s.ms.max)}, ${RUNS} runs`,
        },
        {
          label: `fresh messages, ${tag} (median)`,
          value: s.messages.median,
          unit: 'msgs',
          note:
            `expected ${expected}` +
            (s.duplicates > 0 ? `; up to ${s.duplicates} duplicates` : '; no duplicates'),
        },
        {
          label: `bytes, ${tag} (median)`,
          value: kib(s.bytes.median),
          unit: 'KiB',
          note: `payloads ${kib(s.payload.median)} KiB`,
        },
        {
          label: `throughput, ${tag}`,
          value: rateOf(s),
          unit: 'msgs/s',
          note: tag === 'unpaced' ? undefined : `configured ${defaultRate}/s`,
        },
      ];
      const perState = quietHourly.states;
      return [
        {
          label: 'entities (discovery configs)',
          value: paced.configs,
          unit: '',
          note: `${HOSTS} hosts, ${HOSTS * CONTAINERS_PER_HOST} containers, ${HOSTS * MOUNTS.length} mounts`,
        },
        { label: 'retained states', value: paced.states, unit: '' },
        ...birth(p, `paced ${defaultRate}/s`),
        {
          label: `target < ${TARGET_MS / 1000} s paced`,
          value: p.ms.median < TARGET_MS ? 'pass' : 'FAIL',
          unit: '',
          note: `${Math.round(expected / (defaultRate / 1000))} ms at exactly ${defaultRate}/s`,
        },
        ...birth(u, 'unpaced'),
        { label: 'paced / unpaced time', value: ratio(p.ms.median, u.ms.median), unit: '×' },
        {
          label: 'quiet hour, heartbeat off (default)',
          value: quietOff.messages,
          unit: 'msgs/h',
          note:
            `${quietOff.bytes} B; ${quietOff.configMessages} configs; ` +
            `expected 0 (${(HOUR_MS / REPORT_EVERY_MS) * perState} identical re-reports)`,
        },
        {
          label: 'quiet hour, heartbeat 1h',
          value: quietHourly.messages,
          unit: 'msgs/h',
          note:
            `${kib(quietHourly.bytes)} KiB; ${quietHourly.configMessages} configs; ` +
            `expected ${perState} (one per state)`,
        },
        ...roundFigures(rounds),
      ] satisfies Figure[];
    } finally {
      await broker.stop();
    }
  },
};
