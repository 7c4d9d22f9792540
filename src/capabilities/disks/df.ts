import { MARKER_PREFIX } from './remote-script.js';

/**
 * The output of DISKS_SCRIPT, read defensively (issue #16): a line that does not parse
 * is no number at all, never a guessed one, and output without its end marker is not
 * trusted (a connection cut mid-answer would otherwise read as mounts that vanished).
 */

/** One df line: the numbers df printed for a mount point. */
export interface DfLine {
  readonly total: number;
  readonly used: number;
  readonly avail: number;
  /** The percentage df printed, or null for `-`. */
  readonly pct: number | null;
}

export interface ScriptOutput {
  readonly mountinfo: string;
  /** By mount point as df prints it (raw, unescaped); the last line wins. */
  readonly bytes: ReadonlyMap<string, DfLine>;
  readonly inodes: ReadonlyMap<string, DfLine>;
}

/** The sections of the output, or why it cannot be trusted. */
export function parseScriptOutput(text: string): ScriptOutput | { error: string } {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  let ended = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(MARKER_PREFIX)) {
      const name = line.slice(MARKER_PREFIX.length);
      if (name === 'end') {
        ended = true;
        break;
      }
      current = [];
      sections.set(name, current);
    } else current?.push(line);
  }
  if (!ended) return { error: 'the disk report ended early (no end marker): output truncated' };
  const mountinfo = sections.get('mountinfo');
  if (!mountinfo) return { error: 'the disk report has no mount table' };
  const unit = sections.has('df 1') ? 1 : sections.has('df 1024') ? 1024 : undefined;
  const df = sections.get('df 1') ?? sections.get('df 1024');
  if (unit === undefined || !df) return { error: 'the disk report has no df output' };
  return {
    mountinfo: mountinfo.join('\n'),
    bytes: dfLines(df, unit),
    inodes: dfLines(sections.get('dfi') ?? [], 1),
  };
}

/**
 * `Filesystem N-blocks Used Available Capacity Mounted on` (POSIX df -P): five fields,
 * one space, then the mount point to the end of the line, inner spaces kept. The header,
 * a localised or wrapped line, or numbers with separators match nothing and are skipped.
 */
const DF_LINE = /^\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(\/.*)$/;

function dfLines(lines: readonly string[], unit: number): Map<string, DfLine> {
  const out = new Map<string, DfLine>();
  for (const line of lines) {
    const m = DF_LINE.exec(line);
    if (!m) continue;
    const [total, used, avail] = [m[1]!, m[2]!, m[3]!].map((n) => Number(n) * unit) as [
      number,
      number,
      number,
    ];
    const pct = m[4] === '-' ? null : Number(m[4]!.slice(0, -1));
    out.set(m[5]!, { total, used, avail, pct });
  }
  return out;
}

/**
 * Why a df line's numbers cannot be published, or undefined when they agree with
 * themselves: integers in range, used within the size, and df's own rounded-up
 * percentage within a point of what its numbers give.
 */
export function dfLineProblem(l: DfLine): string | undefined {
  if (![l.total, l.used, l.avail].every(Number.isSafeInteger)) return 'numbers out of range';
  if (l.total === 0) return 'df reports no size (not a disk)';
  if (l.used > l.total || l.avail > l.total) return 'df numbers exceed the size';
  if (l.pct !== null && l.used + l.avail > 0) {
    const own = Math.ceil((l.used * 100) / (l.used + l.avail));
    if (Math.abs(own - l.pct) > 1) return `df says ${l.pct}% but its numbers give ${own}%`;
  }
  return undefined;
}
