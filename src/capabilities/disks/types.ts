/** What one poll of one host's disks found (issue #16). */

/** One line of the mount table, its escapes undone. */
export interface MountEntry {
  /** The mount point as the kernel knows it (`/mnt/my disk`, not `/mnt/my\040disk`). */
  readonly mount: string;
  /** `major:minor`: two mounts of one device are one disk. */
  readonly device: string;
  /** The directory of the filesystem mounted here: `/` unless it is a bind of a subdirectory. */
  readonly root: string;
  readonly fstype: string;
  readonly source: string;
}

/** The numbers of one filesystem, in bytes; `free` is what a non-root user may still write. */
export interface DiskUsage {
  readonly size: number;
  readonly used: number;
  readonly free: number;
  /** used / (used + free), as df computes it: root's reserve does not count as room. */
  readonly usedPct: number;
  /** Null where the filesystem has no inode count (btrfs, some network filesystems). */
  readonly inodesUsedPct: number | null;
}

/** One mount of a poll: its numbers, or why there are none this time. */
export type MountReading =
  | { readonly mount: string; readonly fstype: string; readonly usage: DiskUsage }
  | { readonly mount: string; readonly fstype: string; readonly error: string };

/**
 * A whole poll: every selected mount (`complete`: a mount not listed is gone), or an error
 * for the host as a whole (unreachable, truncated output): nothing is known to be gone.
 */
export type DiskReading =
  | { readonly complete: true; readonly mounts: readonly MountReading[] }
  | { readonly complete: false; readonly error: string };

/** Reads one host's disks once; a local reader and an SSH one. */
export interface DiskReader {
  read(): Promise<DiskReading>;
}

/** The numbers, where a reading has them. */
export function usageOf(r: MountReading): DiskUsage | undefined {
  return 'usage' in r ? r.usage : undefined;
}

/** used %, one decimal, from used and available bytes (df's own formula, not rounded up). */
export function usedPercent(used: number, free: number): number {
  const total = used + free;
  return total > 0 ? Math.round((used / total) * 1000) / 10 : 0;
}
