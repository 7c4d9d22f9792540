import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerPid, unregisterPid } from './pid-registry.js';
import { descendantPids, processesUsing, procStartTime, procState } from './proc-fs.js';
import { LOOPBACK } from './ports.js';
import { unixHttp } from './unix-http.js';

/** How to tell that a server accepts requests. */
export type Readiness =
  | { kind: 'tcp'; port: number; host?: string }
  /** An HTTP GET over a unix socket (default path `/_ping`) that answers 2xx. */
  | { kind: 'unix-http'; socketPath: string; path?: string }
  | { kind: 'predicate'; description: string; check: () => Promise<boolean> };

export interface StartProcessOptions {
  /** Names the log file (`<dir>/<name>.log`) and appears in errors. */
  name: string;
  command: string;
  args: readonly string[];
  dir: string;
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  ready: Readiness;
  /** Readiness timeout; default 15 s. */
  timeoutMs?: number;
}

export const STOP_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A server started by startProcess; stop() is idempotent. */
export class ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(name: string, child: ChildProcess, logFile: string) {
    this.name = name;
    this.pid = child.pid!;
    this.logFile = logFile;
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      if (this.exited) resolve();
      else child.once('exit', () => resolve());
    });
    void this.#exited.then(() => {
      running.delete(child);
      unregisterPid(this.pid);
    });
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** How the process ended, e.g. "exit code 1" or "signal SIGKILL". */
  get exitStatus(): string | undefined {
    if (this.#child.signalCode !== null) return `signal ${this.#child.signalCode}`;
    if (this.#child.exitCode !== null) return `exit code ${this.#child.exitCode}`;
    return undefined;
  }

  async logTail(lines = 40): Promise<string> {
    return tailFile(this.logFile, lines);
  }

  /**
   * SIGTERM, wait up to 10 s, then SIGKILL; resolves once the process is reaped. Descendants
   * it leaves behind (e.g. sshd's session processes) are stopped the same way.
   */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    if (this.exited) return this.#exited;
    const family = descendantPids(this.pid).map((pid) => ({ pid, start: procStartTime(pid) }));
    this.#child.kill('SIGTERM');
    if (!(await this.#waitExit(timeoutMs))) {
      this.#child.kill('SIGKILL');
      if (!(await this.#waitExit(5_000))) {
        throw new Error(`${this.name} (pid ${this.pid}) survived SIGKILL`);
      }
    }
    const orphans = family.filter((p) => p.start !== undefined && procStartTime(p.pid) === p.start);
    await Promise.all(orphans.map((p) => stopPid(p.pid, timeoutMs)));
  }

  async #waitExit(ms: number): Promise<boolean> {
    const timer = sleep(ms).then(() => false);
    return Promise.race([this.#exited.then(() => true), timer]);
  }
}

/**
 * Spawns a server (not detached, stdout and stderr appended to `<dir>/<name>.log`) and waits
 * until it is ready. On timeout or early exit it stops the process and throws with the log tail.
 */
export async function startProcess(opts: StartProcessOptions): Promise<ServerProcess> {
  const logFile = join(opts.dir, `${opts.name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.dir,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', fd, fd],
      detached: false,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`cannot start ${opts.name}: ${err.message}`)));
    });
  } finally {
    closeSync(fd);
  }
  installExitHook();
  running.add(child);
  const server = new ServerProcess(opts.name, child, logFile);
  registerPid(server.pid, opts.name, opts.dir);
  try {
    await waitReady(server, opts.ready, opts.timeoutMs ?? 15_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function waitReady(server: ServerProcess, ready: Readiness, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exited) {
      throw await startError(server, `exited (${server.exitStatus}) before it was ready`);
    }
    if (await probe(ready)) return;
    if (Date.now() > deadline) {
      throw await startError(server, `not ready after ${timeoutMs} ms (${describe(ready)})`);
    }
    await sleep(50);
  }
}

async function startError(server: ServerProcess, what: string): Promise<Error> {
  const tail = await server.logTail();
  return new Error(`${server.name} (pid ${server.pid}) ${what}; log ${server.logFile}:\n${tail}`);
}

async function probe(ready: Readiness): Promise<boolean> {
  switch (ready.kind) {
    case 'tcp':
      return canConnect(ready.host ?? LOOPBACK, ready.port);
    case 'unix-http':
      return unixHttp(ready.socketPath, ready.path ?? '/_ping', { timeoutMs: 2_000 }).then(
        (res) => res.status >= 200 && res.status < 300,
        () => false,
      );
    case 'predicate':
      return ready.check().catch(() => false);
  }
}

function describe(ready: Readiness): string {
  switch (ready.kind) {
    case 'tcp':
      return `tcp ${ready.host ?? LOOPBACK}:${ready.port}`;
    case 'unix-http':
      return `GET ${ready.path ?? '/_ping'} on ${ready.socketPath}`;
    case 'predicate':
      return ready.description;
  }
}

/** True when a TCP connection to host:port succeeds (it is closed at once). */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether a PID names a live process (zombies count as gone). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = procState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Stops a process that is not our child (e.g. one a daemon forked): SIGTERM, then SIGKILL. */
export async function stopPid(pid: number, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (await waitPidGone(pid, timeoutMs)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitPidGone(pid, 5_000))) throw new Error(`pid ${pid} survived SIGKILL`);
}

/**
 * Last resort: SIGKILLs every process working inside `dir` (see processesUsing) and their
 * descendants, which include containers (children of their shim or conmon). Returns the PIDs.
 */
export async function killProcessesUsing(dir: string): Promise<number[]> {
  const users = processesUsing(dir);
  const pids = [...new Set([...users, ...users.flatMap((pid) => descendantPids(pid))])];
  for (const pid of pids) signal(pid, 'SIGKILL');
  await Promise.all(pids.map((pid) => waitPidGone(pid, 5_000)));
  return pids;
}

/** Polls until the PID is gone; false on timeout. */
export async function waitPidGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

async function tailFile(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/**
 * Kills `child` with SIGKILL if this process exits while it runs: for children spawned
 * without startProcess (the agent a benchmark runs, its driver). Returns the child.
 */
export function killOnExit<T extends ChildProcess>(child: T): T {
  installExitHook();
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

// A worker that exits without running its afterAll hooks must not leave servers behind.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
