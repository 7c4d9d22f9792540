import { errorMessage } from '../../core/errors.js';
import type { CommandRunner } from '../../hosts/ssh-connection.js';
import { dfLineProblem, parseScriptOutput, type ScriptOutput } from './df.js';
import { parseMountinfo } from './mountinfo.js';
import { DISKS_SCRIPT } from './remote-script.js';
import { selectMounts, type MountRules } from './selection.js';
import type { DiskReader, DiskReading, MountEntry, MountReading } from './types.js';
import { usedPercent } from './types.js';

/** A disk report is a few KiB; anything near this is not one. */
const MAX_OUTPUT = 4 * 1024 * 1024;

export interface RemoteReaderOptions {
  readonly runner: CommandRunner;
  readonly rules: MountRules;
  readonly timeoutMs: number;
}

/** An SSH host: DISKS_SCRIPT in one round trip, its output read defensively. */
export class RemoteDiskReader implements DiskReader {
  readonly #o: RemoteReaderOptions;

  constructor(opts: RemoteReaderOptions) {
    this.#o = opts;
  }

  async read(): Promise<DiskReading> {
    let stdout: Buffer;
    try {
      const r = await this.#o.runner.exec(DISKS_SCRIPT, {
        timeoutMs: this.#o.timeoutMs,
        maxOutputBytes: MAX_OUTPUT,
      });
      stdout = r.stdout;
    } catch (err) {
      return { complete: false, error: errorMessage(err) };
    }
    return readingOf(stdout.toString('utf8'), this.#o.rules);
  }
}

/** The reading a disk report gives: per mount its numbers or why there are none. */
export function readingOf(text: string, rules: MountRules): DiskReading {
  const out = parseScriptOutput(text);
  if ('error' in out) return { complete: false, error: out.error };
  const { entries } = parseMountinfo(out.mountinfo);
  const mounts = selectMounts(entries, rules).map((m) => mountReading(m, out));
  return { complete: true, mounts };
}

function mountReading(m: MountEntry, out: ScriptOutput): MountReading {
  const { mount, fstype } = m;
  const line = out.bytes.get(mount);
  if (!line) return { mount, fstype, error: 'df printed no line for this mount point' };
  const problem = dfLineProblem(line);
  if (problem) return { mount, fstype, error: problem };
  const inodes = out.inodes.get(mount);
  const inodesUsedPct =
    inodes && inodes.total > 0 && inodes.used <= inodes.total
      ? Math.round((inodes.used / inodes.total) * 1000) / 10
      : null;
  const usage = {
    size: line.total,
    used: line.used,
    free: line.avail,
    usedPct: usedPercent(line.used, line.avail),
    inodesUsedPct,
  };
  return { mount, fstype, usage };
}
