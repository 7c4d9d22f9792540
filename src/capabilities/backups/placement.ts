import type { PlacedBackup } from '../../../discovery/entities/backups.js';
import type { Config } from '../../config/schema.js';
import type { BackupJobConfig } from './config.js';
import type { JobKind } from './tracker.js';

// Apart from wiring.ts so that module.ts (loaded whether backups are on or off) does not
// load the runtime: the scheduler, the runners and the HTTP pings come in with the section.

/** A job's kind from its keys (config.ts). */
export function kindOf(j: BackupJobConfig): JobKind {
  return j.command ? 'run' : j.watch_path !== undefined ? 'watched' : 'reported';
}

/** The jobs as discovery places them: on the device of a host in `hosts`, else the agent's. */
export function placedJobs(config: Config): PlacedBackup[] {
  const hosts = new Set(config.hosts.map((h) => h.id));
  return (config.backups?.jobs ?? []).map((j) => ({
    job: j.name,
    host: hosts.has(j.host) ? j.host : undefined,
    runnable: kindOf(j) === 'run',
  }));
}
