import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * The files of a rotated log beside `current` (`audit.jsonl`): `audit.1.jsonl` is the
 * newest rotated file, higher numbers are older; the numbers may have gaps.
 */

/** The path of rotated file `n` (0: the current file itself). */
export function rotatedPath(current: string, n: number): string {
  const ext = extname(current);
  return n === 0 ? current : join(dirname(current), `${basename(current, ext)}.${n}${ext}`);
}

/** The numbers of the rotated files on disk, newest (lowest) first; gaps kept as found. */
export function rotatedNumbers(current: string): number[] {
  const ext = extname(current);
  const stem = basename(current, ext);
  let names: string[];
  try {
    names = readdirSync(dirname(current));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const numbers: number[] = [];
  for (const name of names) {
    if (!name.startsWith(`${stem}.`) || !name.endsWith(ext)) continue;
    const n = name.slice(stem.length + 1, name.length - ext.length);
    if (/^[1-9]\d{0,5}$/.test(n)) numbers.push(Number(n));
  }
  return numbers.sort((a, b) => a - b);
}
