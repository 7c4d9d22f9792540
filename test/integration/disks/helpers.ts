import { execFile } from 'node:child_process';
import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mountKey } from '../../../discovery/entities/disks.js';
import type { DiskState } from '../../../src/capabilities/disks/tracker.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import type { StoredEvent } from '../../../src/core/events.js';
import type { AgentProcess } from '../../helpers/agent.js';
import { retained } from '../../helpers/mqtt.js';

const run = promisify(execFile);

/** Topics of one mount of one host, as an operator would look them up. */
export function diskTopics(host: string, mount: string) {
  const key = mountKey(mount);
  const obj = `outpost_edge/${host}_disk_${key}`;
  return {
    state: `outpost/edge/hosts/${host}/disks/${key}`,
    usedPct: `homeassistant/sensor/${obj}_used_pct/config`,
    free: `homeassistant/sensor/${obj}_free/config`,
    timeToFull: `homeassistant/sensor/${obj}_time_to_full/config`,
    problem: `homeassistant/binary_sensor/${obj}_problem/config`,
  };
}

/** The retained state of a mount, or undefined while there is none. */
export async function diskState(url: string, topic: string): Promise<DiskState | undefined> {
  const m = await retained(url, topic);
  const raw = m.get(topic);
  return raw === undefined ? undefined : (JSON.parse(raw) as DiskState);
}

/** Every stored disk event of the agent, oldest first (the store read beside the agent). */
export async function diskEvents(agent: AgentProcess): Promise<StoredEvent[]> {
  const store = SqliteEventStore.open({
    dataDir: `${agent.dir}/data`,
    node: 'edge',
    readonly: true,
  });
  try {
    return (await store.query({ limit: 1000 })).filter((e) => e.type.startsWith('disk_'));
  } finally {
    await store.close();
  }
}

/**
 * Sets the filler file in `dir` to `bytes`, never passing through a smaller size on the
 * way (a poll in between would read a level the test never meant): it shrinks by
 * truncating and grows by appending written bytes (not sparse: tmpfs counts pages).
 */
export function setFill(dir: string, size: number): void {
  const bytes = Math.round(size);
  const filler = join(dir, 'filler');
  const now = statSync(filler).size;
  if (bytes < now) truncateSync(filler, bytes);
  else writeFileSync(filler, Buffer.alloc(bytes - now, 1), { flag: 'a' });
}

export async function unmount(dir: string): Promise<void> {
  await run('umount', [dir]);
}
