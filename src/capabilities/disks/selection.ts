import type { MountEntry } from './types.js';

/**
 * Which mounts are disks (issue #16): real filesystems, each device once. Pseudo
 * filesystems never are. tmpfs, overlay layers and mounts inside a container runtime's
 * own directories are left out unless an `include` glob names them: a tmpfs is memory
 * rather than a disk, and a container's layers would each repeat the disk beneath them.
 */

/** Kernel and runtime filesystems with no disk behind them (statfs sizes 0 or RAM). */
const PSEUDO = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'sysfs',
  'tracefs',
  'nfsd',
  // Read-only images (snaps): always 100 % full by construction.
  'squashfs',
  'iso9660',
]);

/** Real enough to measure, but only when asked for by name. */
const ONLY_WHEN_INCLUDED = new Set(['tmpfs', 'overlay', 'aufs', 'shm']);
const RUNTIME_DIRS = [
  '/var/lib/docker/',
  '/var/lib/containers/',
  '/run/containerd/',
  '/run/docker/',
  '/var/lib/kubelet/',
];

export interface MountRules {
  /** Globs of mount points to watch; everything real when absent. */
  readonly include?: readonly string[] | undefined;
  readonly exclude: readonly string[];
}

/** The mounts to watch, in mount-table order. */
export function selectMounts(entries: readonly MountEntry[], rules: MountRules): MountEntry[] {
  const include = rules.include?.map(globToRegExp);
  const exclude = rules.exclude.map(globToRegExp);
  // A mount stacked on another at the same point hides it: the last one is what is there.
  const top = new Map<string, MountEntry>();
  for (const e of entries) {
    top.delete(e.mount);
    top.set(e.mount, e);
  }
  const chosen: MountEntry[] = [];
  for (const e of top.values()) {
    if (PSEUDO.has(e.fstype)) continue;
    const named = include?.some((re) => re.test(e.mount)) ?? false;
    if (include && !named) continue;
    if (!named && (ONLY_WHEN_INCLUDED.has(e.fstype) || insideRuntime(e.mount))) continue;
    if (exclude.some((re) => re.test(e.mount))) continue;
    chosen.push(e);
  }
  return onePerDevice(chosen);
}

/**
 * Bind mounts of one device: the mount of the filesystem's own root stands for it, else
 * the shortest mount point (`/` over `/srv/x`).
 */
function onePerDevice(mounts: readonly MountEntry[]): MountEntry[] {
  const best = new Map<string, MountEntry>();
  const rank = (m: MountEntry) => [m.root === '/' ? 0 : 1, m.mount.length] as const;
  for (const m of mounts) {
    const seen = best.get(m.device);
    if (!seen) {
      best.set(m.device, m);
      continue;
    }
    const [a, b] = [rank(m), rank(seen)];
    if (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])) best.set(m.device, m);
  }
  const kept = new Set(best.values());
  return mounts.filter((m) => kept.has(m));
}

function insideRuntime(mount: string): boolean {
  return RUNTIME_DIRS.some((d) => mount.startsWith(d));
}

/** `*` any run of characters (slashes too), `?` one; anchored. */
export function globToRegExp(glob: string): RegExp {
  let body = '';
  for (const ch of glob) {
    if (ch === '*') body += '.*';
    else if (ch === '?') body += '.';
    else body += ch.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&');
  }
  return new RegExp(`^${body}$`, 's');
}
