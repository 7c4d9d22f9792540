import type { DisksConfig, HostConfig } from '../../../config/schema.js';
import type { CapabilityContext } from '../../capability.js';
import { DiskCleanupExecutor, type CleanupTarget } from './executor.js';
import { localCleanupHost, remoteCleanupHost } from './hosts.js';
import { jobsFor } from './jobs.js';

/** Each watched host that has cleanup jobs, as the executor and the buttons see it. */
export function cleanupTargets(
  ctx: CapabilityContext,
  section: DisksConfig,
  hosts: readonly HostConfig[],
): Map<string, CleanupTarget> {
  const out = new Map<string, CleanupTarget>();
  for (const h of hosts) {
    const jobs = new Map(Object.entries(h.cleanup ?? {}));
    if (jobs.size === 0) continue;
    const on = h.ssh
      ? // Over the host's one shared connection, asked for at each action.
        remoteCleanupHost(h.id, () => ctx.ssh.runner(h.id), section.timeout, ctx)
      : localCleanupHost;
    out.set(h.id, { jobs, on, jobsFor: (mount) => jobsFor(mount, jobs, section.mounts) });
  }
  return out;
}

/** The `disk_cleanup` executor, or none when no watched host has cleanup jobs. */
export function cleanupExecutor(
  targets: ReadonlyMap<string, CleanupTarget>,
  section: DisksConfig,
  mounts: (host: string) => readonly string[] | undefined,
): DiskCleanupExecutor | undefined {
  if (targets.size === 0) return undefined;
  return new DiskCleanupExecutor({ hosts: targets, timeoutMs: section.cleanup_timeout, mounts });
}
