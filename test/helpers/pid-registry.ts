import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { procStartTime, procState } from './proc-fs.js';

/**
 * Server PIDs are recorded as files in this directory (created by the global setup), so
 * the global teardown can kill what a crashed or careless test left running.
 */
export const PID_REGISTRY_ENV = 'OUTPOST_TEST_PID_REGISTRY';

export interface RegisteredServer {
  pid: number;
  name: string;
  /** The server's temp dir. */
  dir: string;
  startTime: string;
}

/** Records a started server; a no-op when no registry is configured. */
export function registerPid(pid: number, name: string, dir: string): void {
  const registry = process.env[PID_REGISTRY_ENV];
  const startTime = procStartTime(pid);
  if (!registry || startTime === undefined) return;
  mkdirSync(registry, { recursive: true });
  const entry: RegisteredServer = { pid, name, dir, startTime };
  writeFileSync(join(registry, String(pid)), JSON.stringify(entry));
}

export function unregisterPid(pid: number): void {
  const registry = process.env[PID_REGISTRY_ENV];
  if (!registry) return;
  try {
    unlinkSync(join(registry, String(pid)));
  } catch {
    // already gone
  }
}

/**
 * Registered servers that are still running. The start time is compared, so a PID the
 * kernel has since given to another process is never reported.
 */
export function runningRegistered(registry: string): RegisteredServer[] {
  let files: string[];
  try {
    files = readdirSync(registry);
  } catch {
    return [];
  }
  return files
    .map((file) => JSON.parse(readFileSync(join(registry, file), 'utf8')) as RegisteredServer)
    .filter((e) => procStartTime(e.pid) === e.startTime && procState(e.pid) !== 'Z');
}
