import type { MountEntry } from './types.js';

/**
 * `/proc/self/mountinfo` (proc(5)): `id parent major:minor root mountpoint options
 * [optional fields…] - fstype source superoptions`. Paths escape space, tab, newline and
 * backslash as octal (`\040`, `\011`, `\012`, `\134`); a line that does not have this
 * shape is counted, not guessed at.
 */
export function parseMountinfo(text: string): { entries: MountEntry[]; bad: number } {
  const entries: MountEntry[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseLine(line);
    if (entry) entries.push(entry);
    else bad++;
  }
  return { entries, bad };
}

function parseLine(line: string): MountEntry | undefined {
  const fields = line.split(' ');
  const dash = fields.indexOf('-', 6);
  if (dash < 0 || fields.length < dash + 3) return undefined;
  const device = fields[2]!;
  const mount = fields[4]!;
  if (!/^\d+:\d+$/.test(device) || !mount.startsWith('/')) return undefined;
  return {
    mount: unescapeOctal(mount),
    device,
    root: unescapeOctal(fields[3]!),
    fstype: unescapeOctal(fields[dash + 1]!),
    source: unescapeOctal(fields[dash + 2]!),
  };
}

/** `\040` → space and so on: the kernel's escapes (fs/proc_namespace.c, mangle()). */
export function unescapeOctal(s: string): string {
  return s.replace(/\\([0-3][0-7]{2})/g, (_m, oct: string) =>
    String.fromCharCode(parseInt(oct, 8)),
  );
}
