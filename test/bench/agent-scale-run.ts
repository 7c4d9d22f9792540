import { copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSshd, type SshdServer } from '../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { cannedHost, createFakeEngine } from '../integration/containers/fake-engine.js';
import {
  AGENT_ROOT,
  cpuMsOf,
  mibOf,
  mqttClient,
  spawnAgent,
  type AgentProc,
} from './containers.js';

/**
 * One run of the built agent (`bin/outpost run`, embedded broker) watching `hosts` SSH
 * hosts × `containers` containers: real sshds on 127.0.0.1, the FAKE engine CLI, one
 * subscriber on `homeassistant/#` like Home Assistant. Judged over the whole run: RSS is
 * sampled from spawn on, so the peak while settling counts as much as the steady state.
 */

export interface ScaleSpec {
  hosts: number;
  containers: number;
  /** sshd refuses unauthenticated connections beyond MaxStartups (10): hosts share sshds. */
  sshds: number;
  pollEveryS: number;
  steadyRounds: number;
  /**
   * How long discovery may take before the run measures on regardless (`settled` false):
   * by default twice what the default rate needs, plus 5 min.
   */
  settleLimitMs?: number;
  /**
   * A fresh client's read of everything retained is over once nothing came for this long
   * (default 2 s): a broker that shares its loop with 200 hosts' polls pauses for longer.
   */
  retainedQuietMs?: number;
  /** The agent's log level (`info` unless set), and where to copy its log when it stops. */
  logLevel?: string;
  keepLogAs?: string;
}

/** Discovery is done when no config has arrived for this long. */
const QUIET_FOR_MS = 10_000;
const SAMPLE_EVERY_MS = 500;
/** The default discovery rate (discovery.rate): what the settle deadline is sized from. */
export const DEFAULT_DISCOVERY_RATE = 300;

export interface ScaleRun {
  /** False when discovery had not completed within the settle limit. */
  settled: boolean;
  startupMs: number;
  hostsOk: number;
  states: number;
  configs: number;
  /** Spawn → every state and every discovery config at the subscriber. */
  settledMs: number;
  rssOnlineMiB: number;
  rssPeakSettlingMiB: number;
  /** Spawn → the sample that was the peak while settling. */
  peakAtMs: number;
  rssSteadyMiB: number[];
  anonSteadyMiB: number;
  hwmMiB: number;
  cpuSettlingMs: number;
  cpuSteadyMs: number;
  steadyMs: number;
  /**
   * A fresh client's CONNECT → CONNACK once settled, and after the steady rounds (NaN: the
   * broker answered none within 60 s, or did not hand over everything it holds).
   */
  connackSettledMs: number;
  connackSteadyMs: number;
  statesAfter: number;
  /** Fresh clients that got no CONNACK within 60 s while the run settled. */
  connackTimeouts: number;
  /** Topic + payload bytes retained on the broker once settled: what a central one would hold. */
  configBytes: number;
  stateBytes: number;
}

/** What a measurement run does with the agent once it has settled (a memory probe). */
export type OnSettled = (agent: AgentProc) => Promise<void>;

export async function measureScale(
  root: string,
  spec: ScaleSpec,
  log: (m: string) => void,
  opts: { extraEnv?: Record<string, string>; onSettled?: OnSettled } = {},
): Promise<ScaleRun> {
  const sshds: SshdServer[] = [];
  const dir = await makeTempDir('bench-agent-scale');
  try {
    for (let i = 0; i < spec.sshds; i++) sshds.push(await startSshd());
    const fake = await createFakeEngine(dir, cannedHost(spec.containers));
    const hosts = Array.from({ length: spec.hosts }, (_, i) => {
      const s = sshds[i % spec.sshds]!;
      return {
        id: `h${i}`,
        ssh: {
          host: s.host,
          port: s.port,
          user: s.user,
          key_file: s.clientKeyPath,
          host_key: s.hostKeyFingerprint,
        },
        engine: { command: fake.command },
      };
    });
    const t0 = performance.now();
    const agent = await spawnAgent(
      root,
      {
        hosts,
        containers: { poll_every: `${spec.pollEveryS}s` },
        ...(spec.logLevel ? { log: { level: spec.logLevel } } : {}),
      },
      120_000,
      opts.extraEnv,
    );
    try {
      return await observe(agent, spec, t0, log, opts.onSettled);
    } finally {
      if (spec.keepLogAs) copyFileSync(agent.logFile, spec.keepLogAs);
      await agent.stop();
    }
  } finally {
    for (const s of sshds) await s.stop();
    await removeTempDir(dir);
  }
}

async function observe(
  agent: AgentProc,
  spec: ScaleSpec,
  t0: number,
  log: (m: string) => void,
  onSettled: OnSettled | undefined,
): Promise<ScaleRun> {
  const expectedStates = spec.hosts * spec.containers;
  // Five configs a container at the default rate, twice over for a busy machine, plus start.
  const settleLimitMs =
    spec.settleLimitMs ?? ((expectedStates * 5) / DEFAULT_DISCOVERY_RATE) * 2_000 + 300_000;
  const rssOnlineMiB = mibOf(agent.pid, 'VmRSS');
  let peak = rssOnlineMiB;
  let peakAtMs = performance.now() - t0;
  let samples: number[] = [];
  let died = false;
  const sampler = setInterval(() => {
    let rss: number;
    try {
      rss = mibOf(agent.pid, 'VmRSS');
    } catch {
      died = true; // gone, or a zombie: the loop below says so with the agent's log
      return;
    }
    if (rss > peak) {
      peak = rss;
      peakAtMs = performance.now() - t0;
    }
    samples.push(rss);
  }, SAMPLE_EVERY_MS);
  const sub = await mqttClient(agent.port, 60_000);
  try {
    let configs = 0;
    let lastConfigAt = performance.now();
    sub.on('message', (_topic, payload) => {
      if (payload.length > 0) configs++;
      lastConfigAt = performance.now();
    });
    // Like Home Assistant: every discovery config arrives at a subscriber.
    await sub.subscribeAsync('homeassistant/#', { qos: 0 });
    const deadline = performance.now() + settleLimitMs;
    let lastLog = performance.now();
    let seen: Retained | undefined;
    let settledAt = 0;
    let settled = true;
    let connackTimeouts = 0;
    let checkPause = QUIET_FOR_MS;
    for (;;) {
      // The live subscription can miss a message published while it was being set up
      // (aedes stores a retained message and matches subscriptions asynchronously), so
      // completeness is checked on what the broker holds, with a fresh client.
      if (performance.now() - lastConfigAt > checkPause) {
        settledAt = lastConfigAt;
        const checkAt = performance.now();
        // A broker busy past the client's connect timeout is not done either: look again.
        const now = await retained(agent.port, spec.retainedQuietMs).catch((err: unknown) => {
          connackTimeouts++;
          log(`  retained check: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        });
        seen = now ?? seen;
        if (now && now.states >= expectedStates && now.configs >= expectedStates * 5) break;
        // Each check reads everything retained: not again before as long as that one took
        // (at least the quiet time), so the checks do not become the broker's main work.
        checkPause = Math.max(QUIET_FOR_MS, performance.now() - checkAt);
        lastConfigAt = performance.now();
      }
      if (performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        log(
          `  ${((lastLog - t0) / 1000).toFixed(0)} s: ${configs} configs so far, ` +
            `RSS ${mibOf(agent.pid, 'VmRSS').toFixed(1)} MiB`,
        );
      }
      if (!died && performance.now() > deadline) {
        // Measured on regardless, and said so: where the limit is, is the finding.
        settled = false;
        settledAt = performance.now();
        seen = (await retained(agent.port, spec.retainedQuietMs).catch(() => undefined)) ?? seen;
        if (!seen) throw new Error('the broker answered no fresh client before the limit');
        break;
      }
      if (died) {
        copyFileSync(agent.logFile, join(tmpdir(), 'outpost-bench-agent-scale.log'));
        throw new Error(
          `the agent exited: ${seen?.states ?? 0} states, ${seen?.configs ?? 0} configs, ` +
            `${seen?.hostsOnline ?? 0} hosts online; its log: ${tmpdir()}/outpost-bench-agent-scale.log`,
        );
      }
      await sleep(500);
    }
    if (!seen) throw new Error('settled without a retained check'); // the loop sets it first
    const settledMs = settledAt - t0;
    // The check that ended the settling read every retained message through a fresh client
    // (30,000 at 5,000 containers), and V8 collects what that read left only seconds later:
    // one poll interval more belongs to the settling, its samples count in the settling
    // peak, and the steady window begins after it (before, its first seconds held the
    // read's garbage: 98.5 MiB for 6 s, then 79-83 MiB for the rest of the window).
    await sleep(spec.pollEveryS * 1000);
    const cpuSettlingMs = cpuMsOf(agent.pid);
    const rssPeakSettlingMiB = peak;
    const peakSettlingAtMs = peakAtMs;
    log(
      `  ${settled ? 'settled' : 'NOT settled'} in ${(settledMs / 1000).toFixed(0)} s: ${seen.states} states, ${seen.configs} ` +
        `configs, ${seen.hostsOnline} hosts online; ${spec.steadyRounds} rounds of ` +
        `${spec.pollEveryS} s`,
    );
    samples = [];
    const w0 = performance.now();
    await sleep(spec.steadyRounds * spec.pollEveryS * 1000);
    const steadyMs = performance.now() - w0;
    const cpuSteadyMs = cpuMsOf(agent.pid) - cpuSettlingMs;
    // The steady window ends here: what follows (a fresh client reading everything retained,
    // a probe's heap snapshot) is not the steady state. The sampler kept filling this array
    // through both, so their peaks were judged as steady RSS; the same reads while settling
    // count in the settling peak and VmHWM.
    const rssSteadyMiB = samples;
    samples = [];
    const anonSteadyMiB = mibOf(agent.pid, 'RssAnon');
    const hwmMiB = mibOf(agent.pid, 'VmHWM');
    // Measured, not required: at 20,000 containers on a loaded machine the broker may not
    // answer a fresh client in time, and that is a finding, not a reason to lose the run.
    const after = await retained(agent.port, spec.retainedQuietMs).catch((err: unknown) => {
      log(`  read after the rounds: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (onSettled) await onSettled(agent);
    return {
      settled,
      startupMs: agent.startupMs,
      hostsOk: seen.hostsOnline,
      states: seen.states,
      configs: seen.configs,
      settledMs,
      rssOnlineMiB,
      rssPeakSettlingMiB,
      peakAtMs: peakSettlingAtMs,
      rssSteadyMiB,
      anonSteadyMiB,
      hwmMiB,
      cpuSettlingMs,
      cpuSteadyMs,
      steadyMs,
      connackSettledMs: seen.connackMs,
      connackSteadyMs: after?.connackMs ?? Number.NaN,
      statesAfter: after?.states ?? 0,
      connackTimeouts,
      configBytes: seen.configBytes,
      stateBytes: seen.stateBytes,
    };
  } finally {
    clearInterval(sampler);
    await sub.endAsync(true).catch(() => undefined);
  }
}

interface Retained {
  states: number;
  configs: number;
  hostsOnline: number;
  configBytes: number;
  stateBytes: number;
  /** How long the broker took to answer CONNECT (it shares the agent's event loop). */
  connackMs: number;
}

/** What the broker holds retained: container states, discovery configs, host availability. */
/** A broker that stops answering mid-read (SUBACK, messages) must not hang the bench. */
const RETAINED_READ_LIMIT_MS = 180_000;

function retained(port: number, quietMs = 2_000): Promise<Retained> {
  let timer: NodeJS.Timeout | undefined;
  const read = new AbortController();
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Ends the read too: a read left running beside the next one doubles the broker's work.
      read.abort();
      reject(new Error(`no full retained read within ${RETAINED_READ_LIMIT_MS} ms`));
    }, RETAINED_READ_LIMIT_MS);
  });
  return Promise.race([readRetained(port, quietMs, read.signal), limit]).finally(() =>
    clearTimeout(timer),
  );
}

async function readRetained(port: number, quietMs: number, signal: AbortSignal): Promise<Retained> {
  const c0 = performance.now();
  const client = await mqttClient(port, 60_000);
  try {
    const out: Retained = {
      states: 0,
      configs: 0,
      hostsOnline: 0,
      configBytes: 0,
      stateBytes: 0,
      connackMs: 0,
    };
    out.connackMs = performance.now() - c0;
    let last = performance.now();
    client.on('message', (topic, payload, packet) => {
      last = performance.now();
      if (!packet.retain || payload.length === 0) return;
      const bytes = Buffer.byteLength(topic) + payload.length;
      if (topic.startsWith('homeassistant/')) {
        out.configs++;
        out.configBytes += bytes;
      } else if (topic.endsWith('/availability')) {
        if (payload.toString() === 'online') out.hostsOnline++;
      } else {
        out.states++;
        out.stateBytes += bytes;
      }
    });
    const hosts = `${AGENT_ROOT.base}/${AGENT_ROOT.node}/hosts/+`;
    await client.subscribeAsync({
      'homeassistant/#': { qos: 0 },
      [`${hosts}/containers/+`]: { qos: 0 },
      [`${hosts}/availability`]: { qos: 0 },
    });
    while (performance.now() - last < quietMs && !signal.aborted) await sleep(200);
    return out;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
