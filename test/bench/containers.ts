import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { connect as connectUnix, createServer as createUnixServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  createContainerCollectors,
  REMOTE_POLLS_AT_ONCE,
} from '../../src/collectors/containers/index.js';
import { LocalContainerCollector } from '../../src/collectors/containers/local-collector.js';
import { ContainerSelector } from '../../src/collectors/containers/selection.js';
import type {
  ContainerCollectorOutput,
  EngineEventCause,
} from '../../src/collectors/containers/types.js';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { topics } from '../../src/core/topics.js';
import { EngineApi } from '../../src/hosts/engine-api.js';
import { nanosOf } from '../../src/hosts/podman-event-line.js';
import { ContainerTracker } from '../../src/state/container-tracker.js';
import {
  podmanEventsLogger,
  startDockerd,
  startPodman,
  type ContainerEngine,
} from '../helpers/container-engines.js';
import { startSshd } from '../helpers/sshd.js';
import { killOnExit } from '../helpers/process.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { unixHttpJson } from '../helpers/unix-http.js';
import { cannedHost, createFakeEngine } from '../integration/containers/fake-engine.js';
import {
  agentCommand,
  canConnect,
  freePort,
  LOOPBACK,
  procStatusBytes,
  runUnderLauncher,
  shippedLaunch,
} from './agent-process.js';
import { startAllocationMeter } from './allocation.js';
import {
  loadNow,
  median,
  repeat,
  spread,
  summarize,
  type Benchmark,
  type Figure,
} from './framework.js';

/**
 * Issue 5 point 9. (1) Latency from a real engine's event to the collector emitting the
 * observation, for dockerd and podman. (2) What polling 50 SSH hosts × 100 containers
 * costs the agent: a real sshd on 127.0.0.1, a FAKE engine CLI printing canned
 * `docker inspect` JSON, and the agent side in its own node process so CPU and RSS are
 * its own. The lead extends (1) to the retained state on the broker once it is wired.
 */

/** Nearest-rank percentile of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const wallMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------
// (1) event → observation latency

const LATENCY_CYCLES = 60;

interface LatencySample {
  /** Engine event time → observation emitted. */
  die: number[];
  start: number[];
  /** Causing event's time → the collector reads it off its stream (the engine's share). */
  delivery: number[];
  /** Causing event read → observation emitted (the agent's share: inspect, normalise, sink). */
  agent: number[];
}

/** The engine's own event times, read from a second, independent event stream. */
function rawEvents(socketPath: string, onEvent: (id: string, action: string, ns: number) => void) {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'] }));
  const req = request({ socketPath, path: `/events?filters=${filters}` }, (res) => {
    let buf = '';
    res.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, nl)) as {
          Action: string;
          Actor: { ID: string };
          time: number;
          timeNano?: number;
        };
        buf = buf.slice(nl + 1);
        onEvent(e.Actor.ID, e.Action.split(':')[0]!, e.timeNano ?? e.time * 1e9);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

interface Emitted {
  at: number;
  cause: EngineEventCause;
}

async function measureLatency(engine: ContainerEngine, cycles: number): Promise<LatencySample> {
  const { socketPath, imageRef } = engine;
  const { Id: id } = await unixHttpJson<{ Id: string }>(
    socketPath,
    '/containers/create?name=bench',
    {
      method: 'POST',
      body: { Image: imageRef, Cmd: ['sleep', '3000'], HostConfig: { NetworkMode: 'none' } },
    },
  );
  const engineTimes = new Map<string, number>();
  const stopRaw = rawEvents(socketPath, (cid, action, ns) => {
    if (cid === id && !engineTimes.has(action)) engineTimes.set(action, ns / 1e6);
  });
  let waiting: { state: string; resolve: (e: Emitted) => void } | undefined;
  const collector = new LocalContainerCollector({
    host: 'bench',
    api: new EngineApi({ socketPath, timeoutMs: 10_000, clock: systemClock }),
    selector: new ContainerSelector({}),
    clock: systemClock,
    log: silentLogger(),
    reconcileEveryMs: 3_600_000,
    sink: (o: ContainerCollectorOutput) => {
      if (o.kind === 'container' && o.container.id === id && o.container.state === waiting?.state) {
        const w = waiting;
        waiting = undefined;
        w.resolve({ at: wallMs(), cause: o.cause });
      }
    },
  });
  await collector.start();
  const sample: LatencySample = { die: [], start: [], delivery: [], agent: [] };
  const step = async (action: 'start' | 'kill', state: string, event: string, into: number[]) => {
    engineTimes.clear();
    const emitted = new Promise<Emitted>((resolve) => (waiting = { state, resolve }));
    await unixHttpJson(socketPath, `/containers/${id}/${action}`, { method: 'POST' });
    const { at, cause } = await emitted;
    // The independent stream may deliver the event a moment after the collector's own.
    for (let i = 0; i < 100 && !engineTimes.has(event); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const t = engineTimes.get(event);
    if (t === undefined) throw new Error(`no ${event} event seen on the raw stream`);
    into.push(at - t);
    // The split is taken on the event that caused the emitting inspect (for podman often an
    // earlier one of the same transition: init before start, kill before die).
    sample.delivery.push(cause.receivedAt - cause.timeNano / 1e6);
    sample.agent.push(at - cause.receivedAt);
  };
  try {
    for (let i = 0; i < cycles; i++) {
      await step('start', 'running', 'start', sample.start);
      await step('kill', 'exited', 'die', sample.die);
    }
  } finally {
    stopRaw();
    await collector.stop();
  }
  return sample;
}

function latencyFigures(kind: string, s: LatencySample): Figure[] {
  const rows: [string, number[]][] = [
    ['die → exited observation', s.die],
    ['start → running observation', s.start],
  ];
  const out: Figure[] = [];
  for (const [what, xs] of rows) {
    out.push(
      {
        label: `${kind}: ${what} (median)`,
        value: median(xs),
        unit: 'ms',
        note: `${xs.length} events`,
      },
      { label: `${kind}: ${what} (p99)`, value: percentile(xs, 99), unit: 'ms' },
    );
  }
  if (s.agent.length > 0) {
    out.push(
      {
        label: `${kind}: of which the engine, event → on the stream (median)`,
        value: median(s.delivery),
        unit: 'ms',
        note: 'for the event that caused the inspect',
      },
      {
        label: `${kind}: of which inspect + agent, on the stream → emitted (median)`,
        value: median(s.agent),
        unit: 'ms',
        note: `p99 ${percentile(s.agent, 99).toFixed(1)} ms; Date.now() resolution`,
      },
    );
  }
  return out;
}

export const containerEventLatency: Benchmark = {
  name: 'container-event-latency',
  description:
    `Time from a real engine's container event (its own timeNano, read from a second, ` +
    `independent /events stream) to LocalContainerCollector emitting the observation that ` +
    `shows the new state (event → inspect → normalise → sink), over ${LATENCY_CYCLES} ` +
    `start/kill cycles of one busybox container, on dockerd 20.10 and podman 4.3 ` +
    `(Docker-compatible API) on unix sockets.`,
  async run(ctx) {
    const figures: Figure[] = [];
    for (const [kind, start] of [
      ['dockerd', startDockerd],
      ['podman', startPodman],
    ] as const) {
      ctx.log(`  ${kind}: starting`);
      const engine = await start();
      try {
        figures.push(...latencyFigures(kind, await measureLatency(engine, LATENCY_CYCLES)));
      } finally {
        await engine.stop();
      }
    }
    return figures;
  },
};

// ---------------------------------------------------------------------------------------
// (2) cost of polling 50 SSH hosts × 100 containers

const HOSTS = 50;
const CONTAINERS = 100;
const ROUNDS = 10;
const DRIVER_FLAG = '--ssh-poll-driver';

interface DriverInput {
  host: string;
  port: number;
  user: string;
  keyFile: string;
  fingerprint: string;
  command: string[];
  hosts: number;
  rounds: number;
  /** All hosts at once (worst case), or one after another (what jittered timers approach). */
  mode: 'concurrent' | 'sequential';
}

interface DriverResult {
  rssStartMiB: number;
  rssConnectedMiB: number;
  rssAfterMiB: number;
  hwmMiB: number;
  connectMs: number;
  roundWallMs: number[];
  roundCpuMs: number[];
  /** Bytes allocated on the V8 heap per round (allocation.ts). */
  roundAllocBytes: number[];
  /** Inspect records parsed and reused unchanged over all rounds, warm-up included. */
  parsed: number;
  reused: number;
  containersSeen: number;
  hostsOk: number;
}

export const containerSshPollCost: Benchmark = {
  name: 'container-ssh-poll-cost',
  description:
    `${HOSTS} hosts × ${CONTAINERS} containers over SSH: one persistent ssh2 connection ` +
    `per host to a real sshd on 127.0.0.1, engine command = a FAKE engine CLI script ` +
    `printing canned docker-20.10-shaped inspect JSON (with \`--format\`, as the agent asks: ` +
    `the fields its template picks, one object per line). The agent side (collectors + tracker) ` +
    `runs in its own node process with the launcher's V8 flags, built as the agent builds ` +
    `them (createContainerCollectors: at most ${REMOTE_POLLS_AT_ONCE} polls in flight, each ` +
    `answer parsed record by record): ${ROUNDS} rounds after 1 warm-up, each asking all ` +
    `hosts at once (worst case), then again in a fresh process one host after another; CPU ` +
    `from process.cpuUsage(), RSS from /proc/self/status. sshd's own CPU is not counted ` +
    `(it runs on the remote hosts in the field).`,
  async run(ctx) {
    const sshd = await startSshd();
    const dir = await makeTempDir('bench-ssh');
    try {
      const fake = await createFakeEngine(dir, cannedHost(CONTAINERS));
      // What the engine prints for the agent's inspect --format (the full records: inspect.json).
      const bytes = statSync(join(dir, 'inspect.jsonl')).size;
      const input: DriverInput = {
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        keyFile: sshd.clientKeyPath,
        fingerprint: sshd.hostKeyFingerprint,
        command: fake.command,
        hosts: HOSTS,
        rounds: ROUNDS,
        mode: 'concurrent',
      };
      ctx.log(`  polling ${HOSTS} hosts × ${CONTAINERS} containers (${bytes} bytes each)`);
      const all = await runDriver(ctx.root, input);
      ctx.log('  again, one host after another');
      const seq = await runDriver(ctx.root, { ...input, mode: 'sequential' });
      return [...pollFigures(all, bytes), ...sequentialFigures(seq)];
    } finally {
      await sshd.stop();
      await removeTempDir(dir);
    }
  },
};

function pollFigures(r: DriverResult, bytesPerHost: number): Figure[] {
  const cpu = median(r.roundCpuMs);
  const mib = (bytesPerHost * HOSTS) / 2 ** 20;
  return [
    {
      label: 'hosts reporting ok / containers tracked',
      value: `${r.hostsOk} / ${r.containersSeen}`,
      unit: '',
    },
    {
      label: 'inspect output per round',
      value: mib,
      unit: 'MiB',
      note: `${HOSTS} × ${bytesPerHost} bytes`,
    },
    {
      label: 'connect all hosts + first poll',
      value: r.connectMs,
      unit: 'ms',
      note: '5 at a time',
    },
    {
      label: 'round wall time (median)',
      value: median(r.roundWallMs),
      unit: 'ms',
      note: `${ROUNDS} rounds`,
    },
    { label: 'round wall time (max)', value: Math.max(...r.roundWallMs), unit: 'ms' },
    { label: 'agent CPU per round (median)', value: cpu, unit: 'ms', note: 'user + system' },
    {
      label: 'V8 heap allocated per round (median)',
      value: median(r.roundAllocBytes) / 2 ** 20,
      unit: 'MiB',
      note: `${ROUNDS} rounds, max ${(Math.max(...r.roundAllocBytes) / 2 ** 20).toFixed(2)} MiB; records parsed ${r.parsed}, reused unchanged ${r.reused}`,
    },
    { label: 'agent CPU per host poll (median)', value: cpu / HOSTS, unit: 'ms' },
    { label: 'agent CPU at poll_every 30s', value: (cpu / 30_000) * 100, unit: '% of a core' },
    { label: 'RSS before connecting', value: r.rssStartMiB, unit: 'MiB', note: 'modules loaded' },
    { label: 'RSS with 50 connections open', value: r.rssConnectedMiB, unit: 'MiB' },
    { label: 'RSS after the rounds', value: r.rssAfterMiB, unit: 'MiB' },
    { label: 'peak RSS (VmHWM)', value: r.hwmMiB, unit: 'MiB' },
  ];
}

function sequentialFigures(r: DriverResult): Figure[] {
  const note = 'one host at a time';
  return [
    {
      label: 'sequential: agent CPU per round (median)',
      value: median(r.roundCpuMs),
      unit: 'ms',
      note,
    },
    {
      label: 'sequential: V8 heap allocated per round (median)',
      value: median(r.roundAllocBytes) / 2 ** 20,
      unit: 'MiB',
      note,
    },
    {
      label: 'sequential: round wall time (median)',
      value: median(r.roundWallMs),
      unit: 'ms',
      note,
    },
    { label: 'sequential: RSS after the rounds', value: r.rssAfterMiB, unit: 'MiB', note },
    { label: 'sequential: peak RSS (VmHWM)', value: r.hwmMiB, unit: 'MiB', note },
  ];
}

function runDriver(root: string, input: DriverInput): Promise<DriverResult> {
  // The launcher's V8 flags, as the agent runs.
  return runUnderLauncher<DriverResult>(root, fileURLToPath(import.meta.url), [DRIVER_FLAG], {
    OUTPOST_BENCH_SSH: JSON.stringify(input),
  });
}

function procStatusMiB(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync('/proc/self/status', 'utf8'),
  );
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The agent side, in a process of its own: collectors and tracker, nothing else. */
async function driver(input: DriverInput): Promise<DriverResult> {
  const rssStartMiB = procStatusMiB('VmRSS');
  const tracker = new ContainerTracker({
    clock: systemClock,
    log: silentLogger(),
    downAfterMs: 300_000,
    cooldownMs: 1_800_000,
    onEvent: () => undefined,
  });
  const hosts = Array.from({ length: input.hosts }, (_, i) => ({
    id: `h${i}`,
    ssh: {
      host: input.host,
      port: input.port,
      user: input.user,
      key_file: input.keyFile,
      host_key: input.fingerprint,
    },
    engine: { command: input.command },
  }));
  const { config } = parseConfig(
    JSON.stringify({ hosts, containers: { poll_every: '1h', timeout: '60s' } }),
    { env: {} },
  );
  const deps = {
    clock: systemClock,
    log: silentLogger(),
    sink: (o: ContainerCollectorOutput) => tracker.apply(o),
  };
  // As the agent builds them: one shared limit on the polls in flight.
  const collectors = createContainerCollectors(config, deps);
  const t0 = performance.now();
  // sshd drops unauthenticated connections beyond MaxStartups (10): connect a few at a time.
  for (let i = 0; i < collectors.length; i += 5) {
    await Promise.all(collectors.slice(i, i + 5).map((c) => c.start()));
  }
  const connectMs = performance.now() - t0;
  const rssConnectedMiB = procStatusMiB('VmRSS');
  const remotes = collectors as unknown as { poll(): Promise<void> }[];
  const poll = async () => {
    if (input.mode === 'concurrent') await Promise.all(remotes.map((c) => c.poll()));
    else for (const c of remotes) await c.poll();
  };
  await poll(); // warm-up
  const roundWallMs: number[] = [];
  const roundCpuMs: number[] = [];
  const roundAllocBytes: number[] = [];
  for (let r = 0; r < input.rounds; r++) {
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    const meter = startAllocationMeter();
    await poll();
    roundAllocBytes.push(meter.stop().bytes);
    roundWallMs.push(performance.now() - w0);
    const d = process.cpuUsage(cpu0);
    roundCpuMs.push((d.user + d.system) / 1000);
  }
  // Collectors from before the parse cache have no stats: their records were all parsed.
  const stats = (collectors as { parseStats?: { parsed: number; reused: number } }[]).map(
    (c) => c.parseStats ?? { parsed: NaN, reused: 0 },
  );
  const views = tracker.hostViews();
  const result: DriverResult = {
    rssStartMiB,
    rssConnectedMiB,
    rssAfterMiB: procStatusMiB('VmRSS'),
    hwmMiB: procStatusMiB('VmHWM'),
    connectMs,
    roundWallMs,
    roundCpuMs,
    roundAllocBytes,
    parsed: stats.reduce((n, x) => n + x.parsed, 0),
    reused: stats.reduce((n, x) => n + x.reused, 0),
    containersSeen: views.reduce((n, v) => n + v.totals.total, 0),
    hostsOk: views.filter((v) => v.status === 'ok').length,
  };
  await Promise.all(collectors.map((c) => c.stop()));
  tracker.stop();
  return result;
}

if (process.argv[2] === DRIVER_FLAG) {
  const input = JSON.parse(process.env.OUTPOST_BENCH_SSH ?? '{}') as DriverInput;
  driver(input).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

// ---------------------------------------------------------------------------------------
// The built agent as a child process (through its launcher, embedded broker), with a config of
// the bench's own: the local engine for (3), 50 SSH hosts for (4).

export interface AgentProc {
  pid: number;
  port: number;
  /** From spawn() until a subscriber had `online` on the availability topic. */
  startupMs: number;
  logFile: string;
  /** SIGTERM, wait for the exit (SIGKILL after 15 s); removes the temp dir. */
  stop(): Promise<void>;
}

export const AGENT_NODE = 'bench';
export const AGENT_ROOT = { base: 'outpost', node: AGENT_NODE };

/** `extraEnv` is for a measurement run only (e.g. a memory probe); the launcher's own stays. */
export async function spawnAgent(
  root: string,
  sections: { hosts: object[]; containers?: object; log?: object },
  readyTimeoutMs = 120_000,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<AgentProc> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-agent-'));
  const logFile = join(dir, 'agent.log');
  const configFile = join(dir, 'config.yaml');
  const port = await freePort();
  // JSON is YAML: the config file as an operator could write it.
  const config = {
    node: { id: AGENT_NODE, name: 'outpost bench' },
    data_dir: join(dir, 'data'),
    log: { level: 'info' },
    broker: { mode: 'embedded', listen: `${LOOPBACK}:${port}`, allow_anonymous: true },
    mqtt: { base_topic: AGENT_ROOT.base, discovery_prefix: 'homeassistant' },
    ...sections,
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const fd = openSync(logFile, 'a');
  const t0 = performance.now();
  let child: ChildProcess;
  try {
    const cmd = agentCommand(root, shippedLaunch(root), ['run', '--config', configFile]);
    child = killOnExit(
      spawn(cmd.command, cmd.args, {
        cwd: dir,
        env: { ...cmd.env, ...extraEnv },
        stdio: ['ignore', fd, fd],
      }),
    );
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = performance.now() + readyTimeoutMs;
    while (!(await canConnect(port))) {
      if (!alive() || performance.now() > deadline) throw new Error('the broker never listened');
      await sleep(5);
    }
    // Many SSH handshakes at start share the loop with the broker: CONNACK can be slow.
    const client = await mqttClient(port, 60_000);
    try {
      const online = new Promise<void>((resolve) =>
        client.on('message', (topic, payload) => {
          if (topic === topics.availability(AGENT_ROOT) && payload.toString() === 'online') {
            resolve();
          }
        }),
      );
      await client.subscribeAsync(topics.availability(AGENT_ROOT), { qos: 1 });
      await Promise.race([
        online,
        sleep(Math.max(0, deadline - performance.now())).then(() => {
          throw new Error(`not online after ${readyTimeoutMs} ms`);
        }),
      ]);
    } finally {
      await client.endAsync(true).catch(() => undefined);
    }
  } catch (err) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    await stop();
    throw new Error(`agent: ${err instanceof Error ? err.message : String(err)}; log:\n${tail}`);
  }
  return { pid: child.pid!, port, startupMs: performance.now() - t0, logFile, stop };
}

export function mqttClient(port: number, connectTimeout = 5_000): Promise<MqttClient> {
  return connectAsync(`mqtt://${LOOPBACK}:${port}`, {
    protocolVersion: 4,
    clientId: `outpost-bench-${randomBytes(4).toString('hex')}`,
    reconnectPeriod: 0,
    connectTimeout,
  });
}

/** user + system CPU of a process so far, in ms (from /proc/<pid>/stat, USER_HZ = 100). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const MiB = 2 ** 20;
export const mibOf = (pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon') =>
  procStatusBytes(pid, field) / MiB;

// ---------------------------------------------------------------------------------------
// (3) engine event → retained state on the broker, through the real agent

const STATE_RUNS = 3;
const STATE_CYCLES = 50;
const STATE_P99_TARGET_MS = 100;

/** One run: one fresh agent, STATE_CYCLES start/kill cycles. */
interface StateLatency {
  /** Engine event (its timeNano) → the retained state at the subscriber. */
  start: number[];
  die: number[];
  /** The engine's share: the event's timeNano → its line reaching the agent's stream. */
  delivery: number[];
  /**
   * The agent's share (with the broker): the transition's own line (start, die) reaching
   * the agent's stream → the retained state at the subscriber: the state read off that
   * line (or its inspect), tracker, StatePublisher, broker.
   */
  agent: number[];
  /**
   * States at the subscriber before their own line reached the agent: an inspect for
   * another line ran ahead of the stream (podman's lines come ~250 ms late). No agent's
   * share to take; their whole path is counted.
   */
  ahead: number;
  /**
   * The whole path of the states that waited for their own line: what an event alone, with
   * no earlier line of the container still on its way, costs.
   */
  own: number[];
  load: number;
}

/**
 * A wall clock in ms with performance.now()'s resolution, anchored to Date.now() when made,
 * so it stays comparable with the engine's timeNano for the length of a run
 * (performance.timeOrigin is fixed at process start and drifts from the wall clock).
 */
function wallClock(): () => number {
  const anchor = Date.now() - performance.now();
  return () => anchor + performance.now();
}

/** An event line of one container as it passed to the agent. */
interface TappedEvent {
  action: string;
  /** The engine's own time of the event, in ms. */
  at: number;
  /** When its line passed the tap on its way to the agent. */
  read: number;
}

/**
 * The agent's engine socket: a unix socket that passes every byte to and from the engine's
 * own, and notes, on the /events streams, when each event line of container `id` passed to
 * the agent. Two readers of podman's events (it tails a file) get the same event up to
 * ~250 ms apart, so only the agent's own stream says when the agent heard of it; a
 * separate stream of the bench's made the agent's share come out negative.
 */
async function eventTap(
  engineSocket: string,
  dir: string,
  id: string,
  clock: () => number,
  onEvent: (e: TappedEvent) => void,
): Promise<{ socketPath: string; close(): Promise<void> }> {
  const socketPath = join(dir, 'tap.sock');
  const sockets = new Set<Socket>();
  const server = createUnixServer((agentSide) => {
    const engineSide = connectUnix(engineSocket);
    sockets.add(agentSide).add(engineSide);
    let events: boolean | undefined;
    let buf = '';
    agentSide.on('data', (chunk: Buffer) => {
      events ??= /^GET \S*\/events[?\s]/.test(chunk.toString('latin1', 0, 200));
      engineSide.write(chunk);
    });
    engineSide.on('data', (chunk: Buffer) => {
      const read = clock();
      agentSide.write(chunk);
      if (!events) return;
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes(id)) continue;
        const action = /"Action":"([^":]+)/.exec(line)?.[1];
        const ns = /"timeNano":(\d+)/.exec(line)?.[1];
        if (action && ns) onEvent({ action, at: Number(ns) / 1e6, read });
      }
    });
    const end = () => {
      agentSide.destroy();
      engineSide.destroy();
      sockets.delete(agentSide);
      sockets.delete(engineSide);
    };
    for (const s of [agentSide, engineSide]) s.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The bench's own reader of podman's events file (plain fs.watch on its directory, then
 * the appended bytes): notes when each line of container `id` could first be read there,
 * as the agent reads it with `engine.events_file`. The split is then event → in the file
 * (podman's share) and in the file → at the subscriber (the agent's).
 */
function eventsFileTap(
  path: string,
  id: string,
  clock: () => number,
  onEvent: (e: TappedEvent) => void,
): () => void {
  let offset = statSync(path).size;
  let buf = '';
  const read = () => {
    const at = clock();
    const fd = openSync(path, 'r');
    try {
      const chunk = Buffer.alloc(64 * 1024);
      let n: number;
      while ((n = readSync(fd, chunk, 0, chunk.length, offset)) > 0) {
        offset += n;
        buf += chunk.toString('utf8', 0, n);
      }
    } finally {
      closeSync(fd);
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.includes(id)) continue;
      const status = /"Status":"([^"]+)"/.exec(line)?.[1];
      const time = /"Time":"([^"]+)"/.exec(line)?.[1];
      const ns = time === undefined ? undefined : nanosOf(time);
      if (status && ns !== undefined) {
        onEvent({ action: status === 'died' ? 'die' : status, at: ns / 1e6, read: at });
      }
    }
  };
  const watcher = watch(dirname(path), (_t, file) => {
    if (file === null || file === basename(path)) read();
  });
  return () => watcher.close();
}

async function measureStateLatency(
  root: string,
  engine: ContainerEngine,
  cycles: number,
  /** podman's events file: the agent reads it (`engine.events_file`), and so does the bench. */
  eventsFile?: string,
): Promise<StateLatency> {
  const { socketPath, imageRef } = engine;
  const name = 'bench';
  const { Id: id } = await unixHttpJson<{ Id: string }>(
    socketPath,
    `/containers/create?name=${name}`,
    {
      method: 'POST',
      body: { Image: imageRef, Cmd: ['sleep', '3000'], HostConfig: { NetworkMode: 'none' } },
    },
  );
  const clock = wallClock();
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-tap-'));
  /** The lines of this container that reached the agent, in order. */
  const tapped: TappedEvent[] = [];
  // With the events file, the agent's news comes from the file: that is what is tapped.
  const tap = await eventTap(socketPath, dir, id, clock, (e) => {
    if (eventsFile === undefined) tapped.push(e);
  });
  const untapFile = eventsFile && eventsFileTap(eventsFile, id, clock, (e) => tapped.push(e));
  let agent: AgentProc | undefined;
  let sub: MqttClient | undefined;
  try {
    agent = await spawnAgent(root, {
      hosts: [
        {
          id: 'local',
          engine: { socket: tap.socketPath, ...(eventsFile ? { events_file: eventsFile } : {}) },
        },
      ],
    });
    // A busy machine can take seconds to answer a CONNECT; that is not what is measured.
    sub = await mqttClient(agent.port, 30_000);
    const topic = topics.container(AGENT_ROOT, 'local', name);
    let waiting: { state: string; resolve: (at: number) => void } | undefined;
    const first = new Promise<void>((resolve) => {
      sub!.on('message', (t, payload) => {
        if (t !== topic || payload.length === 0) return;
        const at = clock();
        const { state } = JSON.parse(payload.toString()) as { state: string };
        resolve();
        if (waiting && state === waiting.state) {
          const w = waiting;
          waiting = undefined;
          w.resolve(at);
        }
      });
    });
    await sub.subscribeAsync(topic, { qos: 1 });
    await first; // the retained state of the created container
    const sample: StateLatency = {
      start: [],
      die: [],
      delivery: [],
      agent: [],
      ahead: 0,
      own: [],
      load: 0,
    };
    const step = async (action: 'start' | 'kill', state: string, event: string, into: number[]) => {
      const since = tapped.length;
      const seen = new Promise<number>((resolve) => (waiting = { state, resolve }));
      await unixHttpJson(socketPath, `/containers/${id}/${action}`, { method: 'POST' });
      const at = await Promise.race([
        seen,
        sleep(10_000).then(() => {
          throw new Error(`no retained state "${state}" within 10 s of ${action}`);
        }),
      ]);
      const mine = () => tapped.slice(since).find((e) => e.action === event);
      for (let i = 0; i < 200 && mine() === undefined; i++) await sleep(5);
      const t = mine();
      if (t === undefined) throw new Error(`no ${event} event reached the agent`);
      // Until 2026-12-07 the share began at the last line before the state, which could be
      // a line of another transition (podman's `cleanup`) whose inspect waited on the engine.
      if (t.read > at) sample.ahead += 1;
      else {
        sample.agent.push(at - t.read);
        sample.own.push(at - t.at);
      }
      into.push(at - t.at);
      sample.delivery.push(t.read - t.at);
    };
    for (let i = 0; i < cycles; i++) {
      await step('start', 'running', 'start', sample.start);
      await step('kill', 'exited', 'die', sample.die);
    }
    sample.load = loadNow();
    return sample;
  } finally {
    await sub?.endAsync(true).catch(() => undefined);
    await agent?.stop();
    if (untapFile) untapFile();
    await tap.close();
    rmSync(dir, { recursive: true, force: true });
    await unixHttpJson(socketPath, `/containers/${id}?force=true`, { method: 'DELETE' });
  }
}

/** "median 12.3 (min 11.0, max 14.1, 3 runs)" of one number per run. */
const perRun = (runs: readonly StateLatency[], f: (r: StateLatency) => number) =>
  summarize(runs.map(f));

function stateLatencyFigures(
  kind: string,
  runs: readonly StateLatency[],
  via: 'stream' | 'file' = 'stream',
): Figure[] {
  const where = via === 'file' ? 'in its events file' : "on the agent's stream";
  const from = via === 'file' ? 'in the file' : 'on its stream';
  const load = median(runs.map((r) => r.load));
  const all = (r: StateLatency) => [...r.start, ...r.die];
  const pooled = runs.flatMap(all);
  const p99 = perRun(runs, (r) => percentile(all(r), 99));
  const agentP99 = perRun(runs, (r) => percentile(r.agent, 99));
  const events = `${all(runs[0]!).length} events a run`;
  const out: Figure[] = [];
  for (const [what, pick] of [
    ['die → retained `exited`', (r: StateLatency) => r.die],
    ['start → retained `running`', (r: StateLatency) => r.start],
  ] as const) {
    const med = perRun(runs, (r) => median(pick(r)));
    out.push({
      label: `${kind}: ${what} (median)`,
      value: med.median,
      unit: 'ms',
      note: `${spread(med)}; p99 ${spread(perRun(runs, (r) => percentile(pick(r), 99)))}`,
      load,
    });
  }
  const delivery = perRun(runs, (r) => median(r.delivery));
  const deliveryP99 = perRun(runs, (r) => percentile(r.delivery, 99));
  const agentMed = perRun(runs, (r) => median(r.agent));
  const own = runs.flatMap((r) => r.own);
  out.push(
    {
      label: `${kind}: event → retained state (p99)`,
      value: p99.median,
      unit: 'ms',
      note: `${spread(p99)}, ${events}; all runs pooled: p99 ${percentile(pooled, 99).toFixed(1)}, max ${Math.max(...pooled).toFixed(1)}`,
      load,
    },
    {
      label: `${kind}: event → retained state, the states that waited for their own line (median)`,
      value: own.length > 0 ? median(own) : 'none',
      unit: own.length > 0 ? 'ms' : '',
      note:
        `all runs pooled: ${own.length} states` +
        (own.length > 0 ? `, p99 ${percentile(own, 99).toFixed(1)}` : '') +
        `; the others came off an inspect that an earlier line started (here transitions ` +
        `follow each other closely)`,
      load,
    },
    {
      label: `${kind}: of which the engine, event → ${where} (p99)`,
      value: deliveryP99.median,
      unit: 'ms',
      note: `${spread(deliveryP99)}; median ${delivery.median.toFixed(1)}`,
      load,
    },
    {
      label: `${kind}: of which the agent + broker, ${from} → at the subscriber (p99)`,
      value: agentP99.median,
      unit: 'ms',
      note:
        `${spread(agentP99)}; median ${agentMed.median.toFixed(1)}; ` +
        `${runs.reduce((n, r) => n + r.ahead, 0)} states reached the subscriber before ` +
        `their own line reached the agent (an inspect ran ahead of the ${via}), left out`,
      load,
    },
    {
      label: `${kind}: target p99 < ${STATE_P99_TARGET_MS} ms, event → retained state`,
      value: p99.median < STATE_P99_TARGET_MS ? 'pass' : 'FAIL',
      unit: '',
      note:
        `p99 ${p99.median.toFixed(1)} ms, of which the engine's delivery p99 ` +
        `${deliveryP99.median.toFixed(1)} ms`,
      load,
    },
    {
      label: `${kind}: target p99 < ${STATE_P99_TARGET_MS} ms, the agent's own share`,
      value: agentP99.median < STATE_P99_TARGET_MS ? 'pass' : 'FAIL',
      unit: '',
      note: `p99 ${agentP99.median.toFixed(1)} ms, ${from} → at the subscriber`,
      load,
    },
  );
  return out;
}

export const containerStateLatency: Benchmark = {
  name: 'container-state-latency',
  description:
    `Time from a real engine's container event (its own timeNano) to an MQTT subscriber ` +
    `receiving the changed retained state \`outpost/bench/hosts/local/containers/bench\` ` +
    `from the built agent: \`bin/outpost run\` (its launcher) as a child process, embedded ` +
    `broker on 127.0.0.1, the engine's unix socket as its local host (event stream → ` +
    `the state read off the event, then inspect → tracker → StatePublisher → broker → ` +
    `subscriber). The agent reaches the ` +
    `engine through a byte-for-byte tap on its socket that notes when each event line ` +
    `reached the agent's own /events stream, which splits the time into the engine's ` +
    `delivery (event → on the agent's stream) and the agent's share (the transition's own ` +
    `line, start or die, on its stream → the state at the subscriber: read off the line ` +
    `itself, or from an inspect). ` +
    `${STATE_RUNS} runs per engine, each a ` +
    `fresh agent and ${STATE_CYCLES} start/kill cycles of one busybox container, on dockerd ` +
    `20.10 and on podman 4.3; per-run p99 and median, the median over the runs with min ` +
    `and max. Target p99 < ${STATE_P99_TARGET_MS} ms over both kinds of event, judged ` +
    `whole and for the agent's share. podman runs twice, once per events backend (its ` +
    `\`events_logger\`, checked in podman's own /info): \`podman\` with \`file\`, which ` +
    `podman reads back by polling every 250 ms (libpod/events/logfile.go, \`Poll: true\`); ` +
    `\`podman (journald)\` with \`journald\`, podman's default, through systemd-journald 252 ` +
    `(the live one, or one the bench starts as a plain child and stops by PID), which ` +
    `podman waits on with sd_journal_wait, woken only when journald announces its appends: ` +
    `journald coalesces those announcements on a 250 ms timer (journald-server.c, ` +
    `POST_CHANGE_TIMER_INTERVAL_USEC) with sd-event's default 250 ms timer accuracy. ` +
    `Through podman's API, either way podman's delivery is its own and no agent can take ` +
    `it back. ` +
    `\`podman (file, tailed by the agent)\`: the same podman with \`file\`, the agent ` +
    `configured with \`engine.events_file\` so it reads podman's events file itself (inotify, ` +
    `the appended bytes) and drops the stream's later copy of each event; there the split is ` +
    `taken at the file: the bench reads the file the same way (fs.watch on its directory) ` +
    `and notes when each line could first be read (event → in its events file: podman's ` +
    `share; in the file → at the subscriber: the agent's). ` +
    `The agent publishes the state an event line says at once, before any inspect ` +
    `(docs/containers.md).`,

  async run(ctx) {
    const figures: Figure[] = [];
    for (const [kind, start, backend, tail] of [
      ['dockerd', startDockerd, undefined, false],
      ['podman', () => startPodman({ eventsLogger: 'file' }), 'file', false],
      [
        'podman (file, tailed by the agent)',
        () => startPodman({ eventsLogger: 'file' }),
        'file',
        true,
      ],
      ['podman (journald)', () => startPodman({ eventsLogger: 'journald' }), 'journald', false],
    ] as const) {
      ctx.log(`  ${kind}: starting`);
      const engine = await start();
      try {
        if (backend !== undefined) {
          // podman could fall back to another backend; the figures must say the one it used.
          const used = await podmanEventsLogger(engine);
          if (used !== backend) throw new Error(`${kind}: podman uses events_logger ${used}`);
        }
        const runs = await repeat(STATE_RUNS, async (i) => {
          const eventsFile = tail ? join(engine.dir, 'events.log') : undefined;
          const r = await measureStateLatency(ctx.root, engine, STATE_CYCLES, eventsFile);
          ctx.log(
            `  ${kind}: run ${i + 1}/${STATE_RUNS}: p99 ` +
              `${percentile([...r.start, ...r.die], 99).toFixed(1)} ms, agent's share p99 ` +
              `${percentile(r.agent, 99).toFixed(1)} ms`,
          );
          return r;
        });
        figures.push(...stateLatencyFigures(kind, runs, tail ? 'file' : 'stream'));
      } finally {
        await engine.stop();
      }
    }
    return figures;
  },
};
