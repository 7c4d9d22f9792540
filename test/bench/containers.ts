import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { ContainerTracker } from '../../src/state/container-tracker.js';
import { startDockerd, startPodman, type ContainerEngine } from '../helpers/container-engines.js';
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
  shippedLaunch,
} from './agent-process.js';
import { startAllocationMeter } from './allocation.js';
import { median, type Benchmark, type Figure } from './framework.js';

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
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    // The launcher's V8 flags, as the agent runs.
    const launch = shippedLaunch(root);
    const child = killOnExit(
      spawn(process.execPath, [...launch.flags, self, DRIVER_FLAG], {
        env: { ...process.env, ...launch.env, OUTPOST_BENCH_SSH: JSON.stringify(input) },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ssh poll driver exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as DriverResult);
    });
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
  sections: { hosts: object[]; containers?: object },
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

const STATE_CYCLES = 100;
const STATE_P99_TARGET_MS = 100;

interface StateLatency {
  start: number[];
  die: number[];
  /** The engine's share: event time → the line on the bench's own /events stream. */
  delivery: number[];
  /** The rest: the line on an /events stream → the retained state at the subscriber. */
  rest: number[];
  startupMs: number;
}

async function measureStateLatency(
  root: string,
  engine: ContainerEngine,
  cycles: number,
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
  const agent = await spawnAgent(root, {
    hosts: [{ id: 'local', engine: { socket: socketPath } }],
  });
  const engineTimes = new Map<string, { at: number; read: number }>();
  const stopRaw = rawEvents(socketPath, (cid, action, ns) => {
    if (cid === id && !engineTimes.has(action)) {
      engineTimes.set(action, { at: ns / 1e6, read: wallMs() });
    }
  });
  const sub = await mqttClient(agent.port);
  try {
    const topic = topics.container(AGENT_ROOT, 'local', name);
    let waiting: { state: string; resolve: (at: number) => void } | undefined;
    let current: string | undefined;
    const first = new Promise<void>((resolve) => {
      sub.on('message', (t, payload) => {
        if (t !== topic || payload.length === 0) return;
        const at = wallMs();
        current = (JSON.parse(payload.toString()) as { state: string }).state;
        resolve();
        if (waiting && current === waiting.state) {
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
      rest: [],
      startupMs: agent.startupMs,
    };
    const step = async (action: 'start' | 'kill', state: string, event: string, into: number[]) => {
      engineTimes.clear();
      const seen = new Promise<number>((resolve) => (waiting = { state, resolve }));
      await unixHttpJson(socketPath, `/containers/${id}/${action}`, { method: 'POST' });
      const at = await Promise.race([
        seen,
        sleep(10_000).then(() => {
          throw new Error(`no retained state "${state}" within 10 s of ${action}`);
        }),
      ]);
      for (let i = 0; i < 100 && !engineTimes.has(event); i++) await sleep(5);
      const t = engineTimes.get(event);
      if (t === undefined) throw new Error(`no ${event} event seen on the raw stream`);
      into.push(at - t.at);
      sample.delivery.push(t.read - t.at);
      sample.rest.push(at - t.read);
    };
    for (let i = 0; i < cycles; i++) {
      await step('start', 'running', 'start', sample.start);
      await step('kill', 'exited', 'die', sample.die);
    }
    return sample;
  } finally {
    stopRaw();
    await sub.endAsync(true).catch(() => undefined);
    await agent.stop();
  }
}

function stateLatencyFigures(kind: string, s: StateLatency): Figure[] {
  const all = [...s.start, ...s.die];
  const p99 = percentile(all, 99);
  const out: Figure[] = [];
  for (const [what, xs] of [
    ['die → retained `exited`', s.die],
    ['start → retained `running`', s.start],
  ] as const) {
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
  out.push(
    {
      label: `${kind}: all events (median)`,
      value: median(all),
      unit: 'ms',
      note: `${all.length} events`,
    },
    {
      label: `${kind}: all events (p99)`,
      value: p99,
      unit: 'ms',
      note: `max ${Math.max(...all).toFixed(1)} ms`,
    },
    {
      label: `${kind}: of which the engine, event → on an /events stream (median)`,
      value: median(s.delivery),
      unit: 'ms',
      note: `p99 ${percentile(s.delivery, 99).toFixed(1)} ms; read by the bench's own stream`,
    },
    {
      label: `${kind}: of which the agent + broker, on the stream → at the subscriber (median)`,
      value: median(s.rest),
      unit: 'ms',
      note: `p99 ${percentile(s.rest, 99).toFixed(1)} ms`,
    },
    {
      label: `${kind}: target p99 < ${STATE_P99_TARGET_MS} ms`,
      value: p99 < STATE_P99_TARGET_MS ? 'pass' : 'FAIL',
      unit: '',
      note: `p99 ${p99.toFixed(1)} ms`,
    },
  );
  return out;
}

export const containerStateLatency: Benchmark = {
  name: 'container-state-latency',
  description:
    `Time from a real engine's container event (its own timeNano, read by the bench from ` +
    `an independent /events stream) to an MQTT subscriber receiving the changed retained ` +
    `state \`outpost/bench/hosts/local/containers/bench\` from the built agent: ` +
    `\`bin/outpost run\` (its launcher) as a child process, embedded broker ` +
    `on 127.0.0.1, the engine's unix socket as its local host (event stream → inspect → ` +
    `tracker → StatePublisher → broker → subscriber). ${STATE_CYCLES} start/kill cycles of ` +
    `one busybox container on dockerd 20.10 and on podman 4.3; target p99 < ` +
    `${STATE_P99_TARGET_MS} ms over both kinds of event.`,
  async run(ctx) {
    const figures: Figure[] = [];
    for (const [kind, start] of [
      ['dockerd', startDockerd],
      ['podman', startPodman],
    ] as const) {
      ctx.log(`  ${kind}: starting`);
      const engine = await start();
      try {
        const s = await measureStateLatency(ctx.root, engine, STATE_CYCLES);
        figures.push(...stateLatencyFigures(kind, s));
      } finally {
        await engine.stop();
      }
    }
    return figures;
  },
};
