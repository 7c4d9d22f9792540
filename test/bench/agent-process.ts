import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAsync, type MqttClient } from 'mqtt';
import { agentEntryPath, launcherPath, readLauncher } from '../helpers/launcher.js';
import { killOnExit } from '../helpers/process.js';

/**
 * Starts the built agent (`bin/outpost run`) the way an operator does: its
 * own temp config and data dir, the embedded broker on a random free port on 127.0.0.1,
 * and watches it from outside over MQTT. Only ever loopback.
 */

export const LOOPBACK = '127.0.0.1';
const NODE_ID = 'bench';
const BASE_TOPIC = 'outpost';
/** The availability topic of DESIGN.md "Topics", for the node id written into the config. */
export const AVAILABILITY_TOPIC = `${BASE_TOPIC}/${NODE_ID}/availability`;

const READY_TIMEOUT_MS = 20_000;
/** The agent promises to exit within 5 s of SIGTERM; give it a little more before SIGKILL. */
const STOP_PROMISE_MS = 5_000;
const STOP_TIMEOUT_MS = 10_000;
/** Environment the agent reads that must not leak in from the caller's shell. */
const SCRUBBED_ENV = [
  'OUTPOST_CONFIG',
  'OUTPOST_DATA_DIR',
  'OUTPOST_LISTEN',
  'LOG_LEVEL',
  'NODE_OPTIONS',
];

/** A running agent plus the subscriber that saw it come online. */
export interface StartedAgent {
  pid: number;
  port: number;
  /** From spawn() until the subscriber had `online` on the availability topic. */
  startupMs: number;
  /** Still connected and subscribed to the availability topic. */
  subscriber: MqttClient;
  /** SIGTERM, wait for the exit; throws unless the exit is code 0. */
  stop(): Promise<StopResult>;
}

export interface StopResult {
  /** From SIGTERM until the process was reaped. */
  stopMs: number;
  /** Whether the subscriber got `offline` before the broker went away. */
  sawOffline: boolean;
}

/** How node is launched: environment and V8 flags. */
export interface Launch {
  readonly env: Readonly<Record<string, string>>;
  readonly flags: readonly string[];
  /** The script that sets `env` and `flags` itself: the agent is started through it. */
  readonly launcher?: string;
}

/** Plain `node`, nothing set: the baseline the launcher is compared against. */
export const NODE_DEFAULTS: Launch = { env: {}, flags: [] };

/**
 * The `outpost` launcher (bin/outpost), so the benchmark measures the agent as shipped:
 * the agent is started through it, and other node processes that stand in for the agent
 * get the malloc settings and V8 flags it defines.
 */
export function shippedLaunch(root: string): Launch {
  return { ...readLauncher(root), launcher: launcherPath(root) };
}

export function agentEntry(root: string): string {
  const entry = agentEntryPath(root);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  return entry;
}

/**
 * The command that starts the agent with `args` as `launch` says: the launcher itself when
 * there is one (it sets its own environment), else node with the flags on the built CLI.
 */
export function agentCommand(
  root: string,
  launch: Launch,
  args: readonly string[],
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const entry = agentEntry(root);
  if (launch.launcher !== undefined)
    return { command: launch.launcher, args: [...args], env: childEnv() };
  return {
    command: process.execPath,
    args: [...launch.flags, entry, ...args],
    env: childEnv(launch),
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected listen address ${String(address)}`));
      });
    });
  });
}

/** True when a TCP connection to 127.0.0.1:port succeeds (closed at once). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A memory figure of a process from /proc/<pid>/status, in bytes (VmRSS, VmHWM, …). */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  if (!m?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The bench's environment without what would change the agent, plus `launch.env`. */
export function childEnv(launch: Launch = NODE_DEFAULTS): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of SCRUBBED_ENV) delete env[k];
  return { ...env, ...launch.env };
}

function configText(dataDir: string, port: number): string {
  return [
    `node: { id: ${NODE_ID}, name: outpost bench }`,
    `data_dir: ${JSON.stringify(dataDir)}`,
    'log: { level: info }',
    `broker: { mode: embedded, listen: "${LOOPBACK}:${port}", allow_anonymous: true }`,
    `mqtt: { base_topic: ${BASE_TOPIC}, discovery_prefix: homeassistant }`,
    'hosts: [{ id: local }]',
    '',
  ].join('\n');
}

/**
 * Spawns the agent as `launch` says (the shipped launcher's by default) and resolves once a
 * subscriber has `online` on the availability topic.
 * A port taken between picking and binding is retried with a fresh port.
 */
export async function startAgent(
  root: string,
  opts: { launch?: Launch; attempts?: number } = {},
): Promise<StartedAgent> {
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(root, opts.launch ?? shippedLaunch(root));
    } catch (err) {
      const clash = err instanceof Error && /EADDRINUSE|address already in use/i.test(err.message);
      if (!clash || attempt >= attempts) throw err;
    }
  }
}

async function startOnce(root: string, launch: Launch): Promise<StartedAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
  const logFile = join(dir, 'agent.log');
  const configFile = join(dir, 'config.yaml');
  const port = await freePort();
  writeFileSync(configFile, configText(join(dir, 'data'), port));

  const fd = openSync(logFile, 'a');
  const t0 = performance.now();
  let child: ChildProcess;
  try {
    const cmd = agentCommand(root, launch, ['run', '--config', configFile]);
    child = killOnExit(
      spawn(cmd.command, cmd.args, { cwd: dir, env: cmd.env, stdio: ['ignore', fd, fd] }),
    );
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const failure = (what: string) => {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    return new Error(`agent (pid ${child.pid}) ${what}; log ${logFile}:\n${tail}`);
  };
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  let subscriber: MqttClient | undefined;
  try {
    subscriber = await waitOnline(port, () => child.exitCode !== null || child.signalCode !== null);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    const e = failure(err instanceof Error ? err.message : String(err));
    cleanup();
    throw e;
  }
  const startupMs = performance.now() - t0;
  const sub = subscriber;
  let sawOffline = false;
  sub.on('message', (topic, payload) => {
    if (topic === AVAILABILITY_TOPIC && payload.toString() === 'offline') sawOffline = true;
  });

  const stop = async (): Promise<StopResult> => {
    const s0 = performance.now();
    child.kill('SIGTERM');
    const result = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => undefined)]);
    const stopMs = performance.now() - s0;
    await sub.endAsync(true).catch(() => undefined);
    if (result === undefined) {
      child.kill('SIGKILL');
      await exited;
      const e = failure(`did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
      cleanup();
      throw e;
    }
    if (result.code !== 0) {
      const e = failure(`exited with ${result.signal ?? `code ${result.code}`} after SIGTERM`);
      cleanup();
      throw e;
    }
    if (stopMs > STOP_PROMISE_MS) {
      const e = failure(`took ${Math.round(stopMs)} ms to exit after SIGTERM (promise: 5 s)`);
      cleanup();
      throw e;
    }
    cleanup();
    return { stopMs, sawOffline };
  };
  return { pid: child.pid!, port, startupMs, subscriber: sub, stop };
}

/**
 * Polls the port every few ms (a 1 s reconnect interval would swamp the figure), then
 * connects over MQTT 3.1.1 (the embedded broker speaks nothing else) and waits for
 * `online` on the availability topic: retained if the agent got there first, live if the
 * subscriber did.
 */
async function waitOnline(port: number, died: () => boolean): Promise<MqttClient> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  const check = () => {
    if (died()) throw new Error('exited before it was online');
    if (performance.now() > deadline) throw new Error(`not online after ${READY_TIMEOUT_MS} ms`);
  };
  while (!(await canConnect(port))) {
    check();
    await sleep(5);
  }
  const client = await connectClient(port);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          check();
        } catch (err) {
          clearInterval(timer);
          reject(asError(err));
        }
      }, 20);
      // Listen before subscribing: a retained message can arrive in the same read as SUBACK.
      client.on('message', (topic, payload) => {
        if (topic === AVAILABILITY_TOPIC && payload.toString() === 'online') {
          clearInterval(timer);
          resolve();
        }
      });
      client.subscribeAsync(AVAILABILITY_TOPIC, { qos: 1 }).catch((err: unknown) => {
        clearInterval(timer);
        reject(asError(err));
      });
    });
  } catch (err) {
    await client.endAsync(true).catch(() => undefined);
    throw err;
  }
  return client;
}

function connectClient(port: number): Promise<MqttClient> {
  return connectAsync(`mqtt://${LOOPBACK}:${port}`, {
    protocolVersion: 4,
    clientId: `outpost-bench-${randomBytes(4).toString('hex')}`,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
}

/** A fresh client's view of the availability topic: the retained payload, or undefined. */
export async function retainedAvailability(port: number): Promise<string | undefined> {
  const client = await connectClient(port);
  try {
    const got = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2_000);
      client.on('message', (topic, payload, packet) => {
        if (topic === AVAILABILITY_TOPIC && packet.retain) {
          clearTimeout(timer);
          resolve(payload.toString());
        }
      });
    });
    await client.subscribeAsync(AVAILABILITY_TOPIC, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

/**
 * The floor any Node agent pays: a bare `node` that opens a TCP listener, timed from spawn
 * until the port accepts. Stopped with SIGTERM like the agent.
 */
export async function startBareNode(): Promise<{
  readyMs: number;
  pid: number;
  kill(): Promise<void>;
}> {
  const port = await freePort();
  const t0 = performance.now();
  const child = killOnExit(
    spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${port}, '${LOOPBACK}')`],
      { env: childEnv(), stdio: 'ignore' },
    ),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = t0 + READY_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('bare node did not listen');
    }
    await sleep(5);
  }
  const readyMs = performance.now() - t0;
  return {
    readyMs,
    pid: child.pid!,
    kill: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Runs a node script as the agent runs (the launcher's V8 flags and malloc environment)
 * and returns the JSON of the last line it printed: how a bench measures agent code in a
 * process of its own, with a heap that is not the bench's.
 */
export function runUnderLauncher<T>(
  root: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  const launch = shippedLaunch(root);
  return new Promise((resolve, reject) => {
    const child = killOnExit(
      spawn(process.execPath, [...launch.flags, script, ...args], {
        env: { ...childEnv(launch), ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code ?? signal}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as T);
    });
  });
}
