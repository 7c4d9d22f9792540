import { globToRegExp } from '../selection.js';

interface MountCleanup {
  readonly path: string;
  readonly cleanup?: readonly string[] | undefined;
}

/**
 * The ids of a host's cleanup jobs that apply to a mount: those of the first
 * `disks.mounts` entry whose path matches and that names jobs, else every job of the host.
 */
export function jobsFor(
  mount: string,
  hostJobs: ReadonlyMap<string, readonly string[]>,
  mounts: readonly MountCleanup[],
): string[] {
  const named = mounts.find((m) => m.cleanup !== undefined && globToRegExp(m.path).test(mount));
  const ids = named?.cleanup ?? [...hostJobs.keys()];
  return ids.filter((id) => hostJobs.has(id));
}
