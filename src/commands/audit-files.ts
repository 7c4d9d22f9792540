import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * The files of a rotated log beside `current` (`audit.jsonl`): `audit.1.jsonl` is the
 * newest rotated file, higher numbers are older. Every step below keeps one invariant
 * on disk — a higher number never holds newer lines than a lower one — so a crash
 * between any two steps leaves a set that reads in order (perhaps with a gap in the
 * numbers), and the next rotation carries on from it.
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

/**
 * Makes room for the current file to become `.1`, keeping at most `keep` rotated files
 * after it has: first deletes the oldest beyond `keep - 1`, then moves `.1 … .g` (the run
 * of numbers without a gap) one up, the oldest first, so each rename goes to a name that
 * is free and no file ever passes a newer one.
 */
export function shiftRotated(current: string, keep: number): void {
  const numbers = rotatedNumbers(current);
  const drop = numbers.length - (keep - 1);
  for (const n of numbers.slice(numbers.length - Math.max(0, drop)).reverse()) {
    rmSync(rotatedPath(current, n), { force: true });
  }
  const left = new Set(numbers.slice(0, numbers.length - Math.max(0, drop)));
  let run = 0;
  while (left.has(run + 1)) run++;
  for (let n = run; n >= 1; n--) renameSync(rotatedPath(current, n), rotatedPath(current, n + 1));
}

/** Deletes the rotated files beyond the newest `keep`, oldest first (`keep` was lowered). */
export function trimRotated(current: string, keep: number): void {
  const numbers = rotatedNumbers(current);
  for (const n of numbers.slice(keep).reverse()) rmSync(rotatedPath(current, n), { force: true });
}

/** Deletes the rotated files last written before `cutoff` (ms since the epoch). */
export function pruneRotated(current: string, cutoff: number): string[] {
  const dropped: string[] = [];
  for (const n of rotatedNumbers(current).reverse()) {
    const path = rotatedPath(current, n);
    if ((statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) >= cutoff) continue;
    rmSync(path, { force: true });
    dropped.push(path);
  }
  return dropped;
}

/** Makes the directory's entries (renames, a new file) durable, as fsync does a file's data. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
