import { closeSync, openSync, statfsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a failed write says about the disk under it, whoever threw it: node:fs (errno
 * codes), better-sqlite3 (SQLITE_* codes) or one of our own errors wrapping them
 * (`cause`). Callers use it to tell "the disk is full or read-only, try again later" from
 * a bug.
 */
export type StorageFailure = 'disk_full' | 'read_only' | 'io';

const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT']);
const READ_ONLY_ERRNO = new Set(['EROFS']);
/** A generic I/O code may carry the reason in its message only. */
const FULL_TEXT = /no space left on device|disk quota exceeded|database or disk is full/i;
const READ_ONLY_TEXT = /read-only file system/i;

/** Why a storage operation failed, when the disk is the reason; undefined otherwise. */
export function storageFailure(err: unknown): StorageFailure | undefined {
  // A short chain: our errors wrap a library's once or twice.
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const found = classify(e);
    if (found) return found;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function classify(e: unknown): StorageFailure | undefined {
  const reason = (e as { reason?: unknown }).reason;
  // StoreError (src/store) carries its own diagnosis of the data directory.
  if (reason === 'disk_full' || reason === 'read_only' || reason === 'io') return reason;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : '';
  if (typeof code !== 'string') return undefined;
  if (FULL_ERRNO.has(code) || code === 'SQLITE_FULL') return 'disk_full';
  if (READ_ONLY_ERRNO.has(code) || code.startsWith('SQLITE_READONLY')) return 'read_only';
  if (code === 'EIO' || code.startsWith('SQLITE_IOERR')) {
    if (FULL_TEXT.test(message)) return 'disk_full';
    if (READ_ONLY_TEXT.test(message)) return 'read_only';
    return 'io';
  }
  return undefined;
}

/** What the file system under a directory allows now: for deciding when to write again. */
export interface DirSpace {
  /** A file could be created (and removed) there. */
  writable: boolean;
  /** Bytes free for the agent (root may use the reserved blocks too). */
  freeBytes: number;
}

/**
 * Creates and removes an empty file in `dir`, and asks statfs how much room is left.
 * access(W_OK) alone misses a file system the kernel remounted read-only after an error.
 */
export function probeDir(dir: string): DirSpace {
  let writable = true;
  try {
    const probe = join(dir, `.outpost-space-probe-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
  } catch {
    writable = false;
  }
  try {
    const fs = statfsSync(dir);
    const blocks = process.getuid?.() === 0 ? fs.bfree : fs.bavail;
    return { writable, freeBytes: blocks * fs.bsize };
  } catch {
    return { writable, freeBytes: 0 };
  }
}
