import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DiskPoller } from '../../src/capabilities/disks/poller.js';
import { RemoteDiskReader } from '../../src/capabilities/disks/remote-reader.js';
import { DiskTracker } from '../../src/capabilities/disks/tracker.js';
import type { DiskReading } from '../../src/capabilities/disks/types.js';
import { createContainerCollectors } from '../../src/collectors/containers/index.js';
import type { ContainerCollectorOutput } from '../../src/collectors/containers/types.js';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { SshPool } from '../../src/hosts/ssh-pool.js';
import { ContainerTracker } from '../../src/state/container-tracker.js';
import { Incidents } from '../../src/state/incidents.js';
import { startSshd } from '../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { cannedHost, createFakeEngine } from '../integration/containers/fake-engine.js';
import { runUnderLauncher } from './agent-process.js';
import { median, ratio, type Benchmark, type Figure } from './framework.js';

const HOSTS = 50;
const CONTAINERS = 100;
const ROUNDS = 10;
const DRIVER_FLAG = '--disk-poll-driver';

interface DriverInput {
  host: string;
  port: number;
  user: string;
  keyFile: string;
  fingerprint: string;
  command: string[];
}

interface DriverResult {
  connections: number;
  mountsPerHost: number;
  diskCpuMs: number[];
  diskWallMs: number[];
  /** Each host's poll, from the exec to its reading applied, over every round. */
  diskRttMs: number[];
  containerCpuMs: number[];
  containerWallMs: number[];
  hostsOk: number;
}

export const diskSshPollCost: Benchmark = {
  name: 'disk-ssh-poll-cost',
  description:
    `${HOSTS} SSH hosts, each polled for its disks (the fixed disk script: mount table, ` +
    `df -P -B1, df -P -i, in one round trip) and for its containers (a FAKE engine CLI ` +
    `printing ${CONTAINERS} canned docker-shaped records), both over the host's one shared ` +
    `ssh2 connection (SshPool, as the agent builds them) to a real sshd on 127.0.0.1. The ` +
    `agent side runs in its own node process with the launcher's V8 flags: ${ROUNDS} rounds ` +
    `after 1 warm-up, each a disk poll of all hosts at once and a container poll of all ` +
    `hosts at once, in alternating order; CPU from process.cpuUsage(), each disk poll's ` +
    `round trip from the exec to its reading applied (DiskTracker). sshd's own CPU is not ` +
    `counted (it runs on the remote hosts in the field).`,
  async run(ctx) {
    const sshd = await startSshd();
    const dir = await makeTempDir('bench-disks');
    try {
      const fake = await createFakeEngine(dir, cannedHost(CONTAINERS));
      ctx.log(`  polling ${HOSTS} hosts for disks and containers`);
      const r = await runDriver(ctx.root, {
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        keyFile: sshd.clientKeyPath,
        fingerprint: sshd.hostKeyFingerprint,
        command: fake.command,
      });
      return figures(r);
    } finally {
      await sshd.stop();
      await removeTempDir(dir);
    }
  },
};

function figures(r: DriverResult): Figure[] {
  const disk = median(r.diskCpuMs);
  const containers = median(r.containerCpuMs);
  const rtt = [...r.diskRttMs].sort((a, b) => a - b);
  const p95 = rtt[Math.min(rtt.length - 1, Math.floor(rtt.length * 0.95))]!;
  return [
    {
      label: 'SSH connections open / hosts',
      value: `${r.connections} / ${HOSTS}`,
      unit: '',
      note: `containers ok on ${r.hostsOk}; ${r.mountsPerHost} mounts per host`,
    },
    {
      label: 'disk poll: agent CPU per round (median)',
      value: disk,
      unit: 'ms',
      note: `${ROUNDS} rounds, user + system`,
    },
    { label: 'disk poll: agent CPU per host (median)', value: disk / HOSTS, unit: 'ms' },
    { label: 'disk poll: round wall time (median)', value: median(r.diskWallMs), unit: 'ms' },
    {
      label: 'disk poll: round trip per host (median)',
      value: median(rtt),
      unit: 'ms',
      note: `${rtt.length} polls, all ${HOSTS} hosts at once`,
    },
    { label: 'disk poll: round trip per host (p95)', value: p95, unit: 'ms' },
    {
      label: 'container poll: agent CPU per round (median)',
      value: containers,
      unit: 'ms',
      note: `${CONTAINERS} containers per host, same hosts, same run`,
    },
    {
      label: 'container poll: round wall time (median)',
      value: median(r.containerWallMs),
      unit: 'ms',
    },
    {
      label: 'disk poll CPU / container poll CPU',
      value: ratio(disk, containers),
      unit: 'x',
      note: 'medians of the same run',
    },
    { label: 'disk poll CPU at poll_every 60s', value: (disk / 60_000) * 100, unit: '% of a core' },
  ];
}

function runDriver(root: string, input: DriverInput): Promise<DriverResult> {
  return runUnderLauncher<DriverResult>(root, fileURLToPath(import.meta.url), [DRIVER_FLAG], {
    OUTPOST_BENCH_DISKS: JSON.stringify(input),
  });
}

/** Established TCP connections of this process to `port` (from /proc/net/tcp). */
function connectionsTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const lines = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
  // st 01 = ESTABLISHED; the remote address is the third column. Both ends are on this
  // machine, so the sshd side (local port = port) is not counted: only ours (remote = port).
  return lines.filter((l) => {
    const f = l.trim().split(/\s+/);
    return f[2]?.endsWith(`:${hex}`) && f[3] === '01';
  }).length;
}

/** The agent side: the SSH pool, the container collectors and the disk pollers. */
async function driver(input: DriverInput): Promise<DriverResult> {
  const hosts = Array.from({ length: HOSTS }, (_, i) => ({
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
    JSON.stringify({ hosts, containers: { poll_every: '1h', timeout: '60s' }, disks: {} }),
    { env: {} },
  );
  const clock = systemClock;
  const log = silentLogger();
  const pool = new SshPool(config.hosts, { clock, log });
  const tracker = new ContainerTracker({
    clock,
    log,
    downAfterMs: 300_000,
    cooldownMs: 1_800_000,
    onEvent: () => undefined,
  });
  const collectors = createContainerCollectors(config, {
    clock,
    log,
    sink: (o: ContainerCollectorOutput) => tracker.apply(o),
    ssh: pool,
  });
  const disks = new DiskTracker({
    thresholds: () => ({ warn: 85, critical: 95, hysteresis: 2 }),
    windowMs: 6 * 3_600_000,
    fillWarnMs: 24 * 3_600_000,
    incidents: new Incidents(),
    onEvent: () => undefined,
  });
  const rtt: number[] = [];
  let measuring = false;
  let mountsPerHost = 0;
  const pollers = config.hosts.map((h) => {
    const ssh = pool.lease(h.id);
    const reader = new RemoteDiskReader({
      runner: ssh,
      rules: { exclude: [] },
      timeoutMs: 60_000,
    });
    let t0 = 0;
    const timed = {
      read: () => {
        t0 = performance.now();
        return reader.read();
      },
    };
    return new DiskPoller({
      host: h.id,
      reader: timed,
      failed: (error): DiskReading => ({ complete: false, error }),
      ssh,
      pollEveryMs: 3_600_000,
      clock,
      log,
      onReading: (host, reading, at) => {
        disks.apply(host, reading, at, () => undefined);
        if (reading.complete) mountsPerHost = reading.mounts.length;
        if (measuring) rtt.push(performance.now() - t0);
      },
    });
  });
  // sshd drops unauthenticated connections beyond MaxStartups (10): connect a few at a time.
  for (let i = 0; i < collectors.length; i += 5) {
    await Promise.all(collectors.slice(i, i + 5).map((c) => c.start()));
  }
  // The disk pollers lease the same connections: they open none.
  await Promise.all(pollers.map((p) => p.start()));
  const connections = connectionsTo(input.port);
  const remotes = collectors as unknown as { poll(): Promise<void> }[];
  const pollDisks = () => Promise.all(pollers.map((p) => p.poll()));
  const pollContainers = () => Promise.all(remotes.map((c) => c.poll()));
  await pollContainers(); // warm-up
  await pollDisks();
  const measure = async (fn: () => Promise<unknown>, cpu: number[], wall: number[]) => {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await fn();
    wall.push(performance.now() - w0);
    const d = process.cpuUsage(c0);
    cpu.push((d.user + d.system) / 1000);
  };
  const r = {
    diskCpuMs: [] as number[],
    diskWallMs: [] as number[],
    containerCpuMs: [] as number[],
    containerWallMs: [] as number[],
  };
  measuring = true;
  for (let i = 0; i < ROUNDS; i++) {
    // Alternating order: neither kind always runs on the other's leftovers.
    if (i % 2 === 0) {
      await measure(pollDisks, r.diskCpuMs, r.diskWallMs);
      await measure(pollContainers, r.containerCpuMs, r.containerWallMs);
    } else {
      await measure(pollContainers, r.containerCpuMs, r.containerWallMs);
      await measure(pollDisks, r.diskCpuMs, r.diskWallMs);
    }
  }
  measuring = false;
  const hostsOk = tracker.hostViews().filter((v) => v.status === 'ok').length;
  await Promise.all(pollers.map((p) => p.stop()));
  await Promise.all(collectors.map((c) => c.stop()));
  tracker.stop();
  return { connections, mountsPerHost, diskRttMs: rtt, hostsOk, ...r };
}

if (process.argv[2] === DRIVER_FLAG) {
  const input = JSON.parse(process.env.OUTPOST_BENCH_DISKS ?? '{}') as DriverInput;
  driver(input).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
