import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, removeTempDir } from './tmp.js';

const run = promisify(execFile);

/** A tmpfs size as `mount -o size=` takes it: kibibytes or mebibytes. */
export type TmpfsSize = `${number}${'k' | 'm'}`;

/** Why a tmpfs cannot be mounted here (not root), or undefined when it can. */
export async function cannotMount(): Promise<string | undefined> {
  const dir = await makeTempDir('mount-probe');
  try {
    await mountTmpfs(dir, '64k');
    await run('umount', [dir]);
    return undefined;
  } catch (err) {
    return `cannot mount here (${(err as Error).message.split('\n')[0]}): needs root`;
  } finally {
    await removeTempDir(dir);
  }
}

/**
 * Mounts a tmpfs of `size` on `dir`, creating the dir first. Put it inside a temp dir:
 * `removeTempDir` unmounts it, so a test needs no cleanup of its own.
 */
export async function mountTmpfs(dir: string, size: TmpfsSize): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** A fresh temp dir with a tmpfs of `size` mounted on it; `removeTempDir` unmounts it. */
export async function makeTmpfsDir(prefix: string, size: TmpfsSize): Promise<string> {
  const dir = await makeTempDir(prefix);
  try {
    await mountTmpfs(dir, size);
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
  return dir;
}

/** Remounts `dir` with new options (`ro`, `size=2m`): a disk that turns read-only or grows. */
export async function remount(dir: string, options: string): Promise<void> {
  await run('mount', ['-o', `remount,${options}`, dir]);
}

/** Appends to a file in `dir` until the file system is full; returns the file's path. */
export function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024);
  // A 64 KiB chunk at a time: 10,000 of them (625 MiB) is far past any test's tmpfs.
  for (let i = 0; ; i++) {
    try {
      writeFileSync(filler, chunk, { flag: 'a' });
    } catch {
      return filler;
    }
    if (i > 10_000) throw new Error(`${dir} never filled up`);
  }
}
