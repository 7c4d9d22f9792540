import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobState } from '../../../src/capabilities/backups/tracker.js';
import type { StoredEvent } from '../../../src/core/events.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { retained } from '../../helpers/mqtt.js';
import { procState } from '../../helpers/proc-fs.js';

/** The retained state of a job, or undefined while there is none. */
export async function jobState(url: string, job: string): Promise<JobState | undefined> {
  const topic = `outpost/edge/backups/${job}`;
  const raw = (await retained(url, topic)).get(topic);
  return raw === undefined ? undefined : (JSON.parse(raw) as JobState);
}

/** Every stored backup event of the agent in `dataDir`, oldest first. */
export async function backupEvents(dataDir: string): Promise<StoredEvent[]> {
  const store = SqliteEventStore.open({ dataDir, node: 'edge', readonly: true });
  try {
    return (await store.query({ limit: 1000 })).filter((e) => e.type.startsWith('backup_'));
  } finally {
    await store.close();
  }
}

/** Writes an executable shell script into `dir`. */
export async function script(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/**
 * A script that never ends, with a child of its own: `<script> <dir>` writes its pid to
 * `<dir>/leader` and its child's to `<dir>/child`. A timeout must kill both.
 */
export function hangScript(dir: string): Promise<string> {
  return script(dir, 'hang.sh', 'echo $$ > "$1/leader"\nsleep 1000 &\necho $! > "$1/child"\nwait');
}

/**
 * A killed process no longer runs: gone from /proc, or a zombie whose parent (here PID 1
 * of the sandbox, which may never reap) has not collected it yet.
 */
export function notRunning(pid: number): boolean {
  const s = procState(pid);
  return s === undefined || s === 'Z';
}
