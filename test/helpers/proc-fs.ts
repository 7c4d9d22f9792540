import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Field 22 of /proc/PID/stat: the start time in clock ticks since boot. */
export function procStartTime(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

/** The one-letter state of a process (R, S, Z...), or undefined when there is no such process. */
export function procState(pid: number): string | undefined {
  return procStatFields(pid)?.[0];
}

/** Descendants of a process down to `depth` generations, children first. */
export function descendantPids(pid: number, depth = Infinity): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const ppid = Number(procStatFields(child)?.[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), child]);
  }
  const found: number[] = [];
  let generation = [pid];
  for (let level = 0; level < depth && generation.length > 0; level++) {
    generation = generation.flatMap((p) => parents.get(p) ?? []);
    found.push(...generation);
  }
  return found;
}

// Fields after "pid (comm) ": the comm may itself contain spaces and parentheses.
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * Live processes working inside `dir`: its path in their command line, or their cwd or root
 * below it. That catches a server's helpers (conmon, containerd shims, sshd sessions) and
 * the containers themselves, whose root is a rootfs in the engine's data dir.
 */
export function processesUsing(dir: string): number[] {
  const inside = (path: string | undefined) =>
    path !== undefined && (path === dir || path.startsWith(`${dir}/`));
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid)
    .filter((pid) => {
      const state = procState(pid);
      if (state === undefined || state === 'Z') return false;
      return (
        inside(readLink(`/proc/${pid}/cwd`)) ||
        inside(readLink(`/proc/${pid}/root`)) ||
        readText(`/proc/${pid}/cmdline`).includes(dir)
      );
    });
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Live (not zombie) processes whose process group is `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid))
    .filter((pid) => {
      const f = procStatFields(pid);
      return f !== undefined && f[0] !== 'Z' && Number(f[2]) === pgid;
    });
}

/** Live processes whose command line contains `text` (its words joined by spaces). */
export function processesWithArg(text: string): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid)
    .filter((pid) => procState(pid) !== 'Z')
    .filter((pid) => readText(`/proc/${pid}/cmdline`).split('\0').join(' ').includes(text));
}
