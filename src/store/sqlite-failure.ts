import { accessSync, closeSync, constants, openSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { StoreError, type StoreFailure } from './event-store.js';

/**
 * Turns what better-sqlite3 throws into a StoreError that names the path and the cause.
 * SQLite's own codes are coarse (a remount read-only surfaces as SQLITE_IOERR_WRITE, a full
 * disk sometimes as an I/O error), so the data directory is asked what is wrong with it.
 */
export function storeFailure(err: unknown, path: string, doing: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = sqliteCode(err);
  const cause = diagnoseDir(dirname(path));
  const reason = classify(code, cause);
  const detail = `${errorMessage(err)}${code ? ` [${code}]` : ''}`;
  const what = cause ? `${cause.text} (${detail})` : detail;
  const hint = HINTS[reason] ?? '';
  return new StoreError(reason, path, `${doing} failed: ${what}${hint}`, { cause: err });
}

const HINTS: Partial<Record<StoreFailure, string>> = {
  disk_full: '; appends are refused until space is freed, stored events can still be read',
  read_only: '; appends are refused, stored events can still be read',
};

/** The SQLite result code name (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, …) of an error, if any. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** True for errors that mean the database file itself is damaged. */
export function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

interface DirCause {
  reason: 'read_only' | 'disk_full';
  text: string;
}

/** What the file system says about the data directory, when that explains a failure. */
export function diagnoseDir(dir: string): DirCause | undefined {
  const code = writeProbe(dir);
  if (code === 'EROFS')
    return { reason: 'read_only', text: `${dir} is on a read-only file system` };
  if (code === 'EACCES' || code === 'EPERM') {
    return { reason: 'read_only', text: `${dir} is not writable (permission denied)` };
  }
  try {
    const fs = statfsSync(dir);
    // bavail: blocks available to unprivileged users; the agent may run as root, so bfree too.
    if (code === 'ENOSPC' || fs.bavail === 0 || fs.bfree === 0) {
      return { reason: 'disk_full', text: `no space left on the file system of ${dir}` };
    }
  } catch {
    // statfs unsupported or the dir vanished: no diagnosis, the SQLite message stands
  }
  return undefined;
}

/**
 * Creates and removes a file in `dir`; the errno when that fails. access(W_OK) is not
 * enough: ext4 remounted read-only after an error (errors=remount-ro) can keep its mount
 * flags rw on recent kernels, and only a real write says EROFS.
 */
function writeProbe(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.outpost-write-probe-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

function classify(code: string | undefined, cause: DirCause | undefined): StoreFailure {
  if (code === 'SQLITE_FULL') return 'disk_full';
  if (cause) return cause.reason;
  if (code?.startsWith('SQLITE_READONLY')) return 'read_only';
  if (code !== undefined && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return 'corrupt';
  if (code?.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') return 'io';
  return 'internal';
}
