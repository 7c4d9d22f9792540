import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createHostCollector } from '../../src/collectors/containers/index.js';
import { LocalContainerCollector } from '../../src/collectors/containers/local-collector.js';
import { ContainerSelector } from '../../src/collectors/containers/selection.js';
import type {
  ContainerCollectorOutput,
  EngineEventCause,
} from '../../src/collectors/containers/types.js';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { EngineApi } from '../../src/hosts/engine-api.js';
import { ContainerTracker } from '../../src/state/container-tracker.js';
import { startDockerd, startPodman, type ContainerEngine } from '../helpers/container-engines.js';
import { startSshd } from '../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { unixHttpJson } from '../helpers/unix-http.js';
import { cannedHost, createFakeEngine } from '../integration/containers/fake-engine.js';
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
  containersSeen: number;
  hostsOk: number;
}

export const containerSshPollCost: Benchmark = {
  name: 'container-ssh-poll-cost',
  description:
    `${HOSTS} hosts × ${CONTAINERS} containers over SSH: one persistent ssh2 connection ` +
    `per host to a real sshd on 127.0.0.1, engine command = a FAKE engine CLI script ` +
    `printing canned docker-20.10-shaped inspect JSON. The agent side (collectors + tracker) ` +
    `runs in its own node process: ${ROUNDS} rounds after 1 warm-up, each polling all hosts ` +
    `at once (worst case: every poll in flight together), then again in a fresh process one ` +
    `host after another; CPU from process.cpuUsage(), RSS from /proc/self/status. sshd's ` +
    `own CPU is not counted (it runs on the remote hosts in the field).`,
  async run(ctx) {
    const sshd = await startSshd();
    const dir = await makeTempDir('bench-ssh');
    try {
      const fake = await createFakeEngine(dir, cannedHost(CONTAINERS));
      const bytes = statSync(join(dir, 'inspect.json')).size;
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
      const all = await runDriver(input);
      ctx.log('  again, one host after another');
      const seq = await runDriver({ ...input, mode: 'sequential' });
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
      label: 'sequential: round wall time (median)',
      value: median(r.roundWallMs),
      unit: 'ms',
      note,
    },
    { label: 'sequential: RSS after the rounds', value: r.rssAfterMiB, unit: 'MiB', note },
    { label: 'sequential: peak RSS (VmHWM)', value: r.hwmMiB, unit: 'MiB', note },
  ];
}

function runDriver(input: DriverInput): Promise<DriverResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, DRIVER_FLAG], {
      env: { ...process.env, OUTPOST_BENCH_SSH: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
  const collectors = config.hosts.map((h) => createHostCollector(h, config.containers, deps)!);
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
  for (let r = 0; r < input.rounds; r++) {
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await poll();
    roundWallMs.push(performance.now() - w0);
    const d = process.cpuUsage(cpu0);
    roundCpuMs.push((d.user + d.system) / 1000);
  }
  const views = tracker.hostViews();
  const result: DriverResult = {
    rssStartMiB,
    rssConnectedMiB,
    rssAfterMiB: procStatusMiB('VmRSS'),
    hwmMiB: procStatusMiB('VmHWM'),
    connectMs,
    roundWallMs,
    roundCpuMs,
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
