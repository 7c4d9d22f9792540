import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/*
 * Replacing a file so that a crash leaves the old content or the new one, never half of
 * either: write a temp file beside it (rename is atomic within one file system only),
 * fsync it, rename it over the old one, fsync the directory (rename(2) changes the
 * directory; without the fsync a power cut can bring the old entry back).
 *
 * Both a promise and a blocking form: the discovery registry writes megabytes and must
 * not stall the event loop; the suppressions and the action log write a few lines from
 * code that is synchronous on purpose (the write is done when the command is answered).
 */

/** How a replaced file is created. */
export interface AtomicWriteOptions {
  /** Mode of the new file, before the umask; default 0o666, as node:fs. */
  readonly mode?: number;
}

let writes = 0;

/** `<file>.<pid>.<n>.tmp`: never shared by two writers, found again by removeTempFiles. */
function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${++writes}.tmp`;
}

/** Replaces `path` with `data` atomically and durably; a failed write leaves no temp file. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, 'w', opts.mode ?? 0o666);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some file systems refuse to fsync a directory; the rename itself was atomic.
  }
}

/** writeFileAtomic, blocking: for small files written from synchronous code. */
export function writeFileAtomicSync(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): void {
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o666);
    try {
      // Loops over short writes (a nearly full disk), unlike a bare writeSync.
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // What failed the write is the error to report.
    }
    throw err;
  }
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems refuse to fsync a directory; the rename itself was atomic.
  }
}

/** Removes the temp files a crash in the middle of replacing `path` left beside it. */
export async function removeTempFiles(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) {
      await rm(join(dir, name), { force: true }).catch(() => undefined);
    }
  }
}
