import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './apt.js';
import { startProcess, type ServerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

const execFileAsync = promisify(execFile);

/** Where every journal client (sd_journal_send, podman's events) writes: a fixed path. */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';
const SOCKET_DIR = '/run/systemd/journal';
/** journald keeps its files here until asked to flush them to /var/log/journal. */
const RUNTIME_DIR = '/run/log/journal';
const PERSISTENT_DIR = '/var/log/journal';
const MACHINE_ID = '/etc/machine-id';

/** The machine's systemd-journald, as the bench found or started it. */
export interface Journald {
  /** Whether this process started it (and so stops it); false when one was already live. */
  started: boolean;
  /** The journald this process started, by PID; undefined when it found one running. */
  pid?: number;
  logFile?: string;
  /** Stops the journald it started, by PID, and removes the dirs that were not there before. */
  stop(): Promise<void>;
}

/** Whether some process has a unix socket bound at `path` (a stale socket file is not). */
export function unixSocketIsBound(path: string): boolean {
  const table = readFileSync('/proc/net/unix', 'utf8');
  return table.split('\n').some((line) => line.endsWith(` ${path}`));
}

/**
 * Makes sure a systemd-journald serves this machine's journal socket. journald is a
 * system-wide singleton on fixed paths, so one that is already live is used as it is and
 * never stopped. Otherwise the Debian `systemd` package's journald runs as a plain child
 * (root, no systemd as PID 1, no socket activation: it binds its own sockets), keeping its
 * files in /run/log/journal. For the bench only: tests run in parallel and must not share it.
 */
export async function ensureJournald(): Promise<Journald> {
  if (unixSocketIsBound(JOURNAL_SOCKET)) return { started: false, stop: () => Promise.resolve() };
  if (process.getuid?.() !== 0) {
    throw new Error(`no journald listens on ${JOURNAL_SOCKET}, and starting one needs root`);
  }
  const binary = await journaldBinary();
  await ensureMachineId();
  const created = [SOCKET_DIR, RUNTIME_DIR].filter((d) => !existsSync(d));
  const dir = await makeTempDir('journald');
  let proc: ServerProcess | undefined;
  const stop = async () => {
    await proc?.stop();
    for (const d of created) await rm(d, { recursive: true, force: true });
    await removeTempDir(dir);
  };
  try {
    proc = await startProcess({
      name: 'systemd-journald',
      command: binary,
      // No argument: one would be taken as a journal namespace.
      args: [],
      dir,
      // Its own log to our log file; no service manager to notify.
      env: { NOTIFY_SOCKET: undefined, SYSTEMD_LOG_TARGET: 'console' },
      ready: {
        kind: 'predicate',
        description: `${JOURNAL_SOCKET} bound and a journal file open`,
        check: () => Promise.resolve(unixSocketIsBound(JOURNAL_SOCKET) && journalFileExists()),
      },
      timeoutMs: 30_000,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { started: true, pid: proc.pid, logFile: proc.logFile, stop };
}

async function journaldBinary(): Promise<string> {
  for (const path of ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald']) {
    if (existsSync(path)) return path;
  }
  const onPath = await findBinary('systemd-journald');
  if (onPath !== undefined) return onPath;
  throw new Error('systemd-journald not found; install it with: apt-get install -y systemd');
}

/** journald names its directory after the machine ID; make one only if there is none. */
async function ensureMachineId(): Promise<void> {
  const id = existsSync(MACHINE_ID) ? readFileSync(MACHINE_ID, 'utf8').trim() : '';
  if (/^[0-9a-f]{32}$/.test(id)) return;
  if (id !== '') throw new Error(`${MACHINE_ID} holds "${id}", expected 32 hex digits`);
  const setup = await findBinary('systemd-machine-id-setup');
  if (setup === undefined) throw new Error(`${MACHINE_ID} is missing and so is systemd`);
  await execFileAsync(setup);
}

function journalFileExists(): boolean {
  const id = readFileSync(MACHINE_ID, 'utf8').trim();
  return [RUNTIME_DIR, PERSISTENT_DIR].some((root) => {
    const d = join(root, id);
    return existsSync(d) && readdirSync(d).some((f) => f.endsWith('.journal'));
  });
}
