/** Every marker line of the disk report starts with this. */
export const MARKER_PREFIX = '@@outpost-disks:';

function marker(name: string): string {
  return `${MARKER_PREFIX}${name}`;
}

/**
 * The one command the agent runs on an SSH host to read its disks (issue #16): a constant,
 * never a string built from a mount point or any other name, so nothing a host or a user
 * names can reach the remote shell. One round trip: the mount table, then df in POSIX
 * format for bytes and for inodes, each after a marker line, and an end marker that says
 * the output is whole. `LC_ALL=C` keeps df's words and numbers unlocalised; df without
 * `-B1` (busybox) falls back to kibibytes, and the marker says which.
 */
export const DISKS_SCRIPT = [
  'LC_ALL=C; export LC_ALL',
  `echo '${marker('mountinfo')}'`,
  'cat /proc/self/mountinfo',
  'if df -P -B1 / >/dev/null 2>&1',
  `then echo '${marker('df 1')}'; df -P -B1 -a 2>/dev/null`,
  `else echo '${marker('df 1024')}'; df -P -k -a 2>/dev/null`,
  'fi',
  `echo '${marker('dfi')}'`,
  'df -P -i -a 2>/dev/null',
  `echo '${marker('end')}'`,
].join('\n');
