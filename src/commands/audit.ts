import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { fsyncDir, pruneRotated, rotatedPath, shiftRotated, trimRotated } from './audit-files.js';
import type { Origin } from './command.js';

export const AUDIT_FILE = 'audit.jsonl';

export type AuditKind =
  | 'command'
  | 'decision'
  | 'approval'
  | 'rejection'
  | 'selection'
  | 'result'
  | 'expiry'
  | 'maintenance'
  | 'silence'
  | 'ack'
  | 'recovery'
  | 'rate_limit';

/** One audit line: who, what, when, outcome (issue 6). */
export interface AuditEntry {
  ts: string;
  kind: AuditKind;
  /** requested_by when the command named someone, else where it came from. */
  who: string;
  origin: Origin;
  action: string;
  target: string | null;
  command_id: string | null;
  action_id: string | null;
  /** received, invalid, allow, approve, deny, approved, rejected, completed, failed, … */
  outcome: string;
  message?: string;
  detail?: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'ts'>;

/** How far the audit log may grow (`remediation.audit`, issue 13 point 5). */
export interface AuditLimits {
  /** A file is rotated before a line would take it past this many bytes. */
  maxBytes: number;
  /** Rotated files kept beside the current one. */
  keep: number;
  /** Rotated files last written longer ago than this are deleted. */
  maxAgeMs: number;
}

/** `remediation.audit` as the writer's limits. */
export function auditLimits(c: { max_bytes: number; keep: number; max_age: number }): AuditLimits {
  return { maxBytes: c.max_bytes, keep: c.keep, maxAgeMs: c.max_age };
}

/** Rotated files are checked for age at most this often while the log is written. */
const PRUNE_EVERY_MS = 3_600_000;

interface Queued {
  line: Buffer;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * The audit log: JSON lines appended to `<data_dir>/audit.jsonl`, opened O_APPEND and
 * never rewritten. Entries made in the same tick are written and fsynced together (group
 * commit), so a burst of commands costs one fsync; `append` resolves once its line is on
 * disk, and callers that are about to act wait for it.
 *
 * Bounded by `limits`: before a line would take the file past `maxBytes` the file is
 * rotated (`audit-files.ts`: `audit.jsonl` → `audit.1.jsonl` → … → `audit.<keep>.jsonl`,
 * the oldest deleted), so the log never takes more than `(keep + 1) × maxBytes` unless a
 * single line is longer than `maxBytes`. Rotation happens only between whole, fsynced lines.
 * A write that fails (disk full, read-only) rejects its callers' promises and is logged
 * once until a write succeeds again; a line that cannot be written without passing the
 * bound is refused rather than written past it.
 */
export class AuditLog {
  readonly #path: string;
  readonly #clock: Clock;
  readonly #limits: AuditLimits;
  readonly #log: Logger | undefined;
  #fd: number | undefined;
  /** Bytes in the current file, all of them whole, fsynced lines. */
  #size = 0;
  #open = false;
  /** The last write error, logged once, until a write succeeds again. */
  #failing: string | undefined;
  #nextPrune = 0;
  #queue: Queued[] = [];
  #scheduled = false;

  constructor(path: string, clock: Clock, opts: { limits: AuditLimits; log?: Logger }) {
    this.#path = path;
    this.#clock = clock;
    this.#limits = opts.limits;
    this.#log = opts.log;
  }

  get path(): string {
    return this.#path;
  }

  /** Opens the current file; a failure is logged, and the next write tries again. */
  open(): void {
    this.#open = true;
    try {
      if (this.#fd === undefined) this.#openFile();
    } catch (err) {
      this.#failed(err);
      return;
    }
    this.#housekeeping('rotated audit files not trimmed', () =>
      trimRotated(this.#path, this.#limits.keep),
    );
    this.#prune();
  }

  append(entry: NewAuditEntry): Promise<void> {
    const line = `${JSON.stringify({ ts: new Date(this.#clock.now()).toISOString(), ...entry })}\n`;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ line: Buffer.from(line), resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Writes what is queued, then closes the file. */
  close(): Promise<void> {
    this.#flush();
    this.#open = false;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    return Promise.resolve();
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let done = 0;
    try {
      if (!this.#open) throw new Error('the audit log is not open');
      if (this.#fd === undefined) this.#openFile();
      let bytes = 0;
      for (let i = 0; i < batch.length; i++) {
        const n = batch[i]!.line.length;
        // Rotate between lines, never inside one; a line longer than maxBytes gets a
        // file of its own.
        if (this.#size + bytes > 0 && this.#size + bytes + n > this.#limits.maxBytes) {
          this.#write(batch.slice(done, i));
          for (const b of batch.slice(done, i)) b.resolve();
          done = i;
          bytes = 0;
          this.#rotate();
        }
        bytes += n;
      }
      this.#write(batch.slice(done));
      for (const b of batch.slice(done)) b.resolve();
      done = batch.length;
      if (this.#failing !== undefined)
        this.#log?.info({ path: this.#path }, 'audit log written again');
      this.#failing = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const e = new OutpostError('INTERNAL', `audit log ${this.#path}: ${errorMessage(err)}`, {
        cause: err,
        retryable: code === 'ENOSPC' || code === 'EDQUOT',
      });
      for (const b of batch.slice(done)) b.reject(e);
      if (this.#open) this.#failed(err);
    }
    if (this.#open && this.#clock.now() >= this.#nextPrune) this.#prune();
  }

  /** Appends `items` and fsyncs; a failed write is cut back off, so no line is left torn. */
  #write(items: readonly Queued[]): void {
    if (items.length === 0) return;
    const fd = this.#fd!;
    const data = Buffer.concat(items.map((b) => b.line));
    try {
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } catch (err) {
      try {
        ftruncateSync(fd, this.#size);
      } catch {
        // Reopened by the next write, which ends a torn line first (#openFile).
        this.#fd = undefined;
        closeSync(fd);
      }
      throw err;
    }
    this.#size += data.length;
  }

  /**
   * The current file becomes `.1` and a new one is opened. The older files move first and
   * the current file last (audit-files.ts), so a crash at any step leaves files that read
   * in order; after it the agent appends to `audit.jsonl` (created if the crash came after
   * its rename) and the next rotation goes on from what it finds. If the older files
   * cannot be moved, this throws and the current file stays as it is.
   */
  #rotate(): void {
    const fd = this.#fd!;
    shiftRotated(this.#path, this.#limits.keep);
    try {
      renameSync(this.#path, rotatedPath(this.#path, 1));
    } catch (err) {
      // Gone from under us (deleted by hand): nothing to rotate, start a new file.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#fd = undefined;
    this.#size = 0;
    closeSync(fd);
    this.#openFile();
    this.#prune();
  }

  /**
   * Opens (or creates) the current file for appending. A crash in the middle of a write
   * can leave a torn last line: it is ended with a newline, so the next line stays whole
   * and readers count the fragment as damaged. The directory is fsynced, so a new file's
   * name (and a rotation's renames) are on disk before any line in it is acknowledged.
   */
  #openFile(): void {
    mkdirSync(dirname(this.#path), { recursive: true });
    const fd = openSync(this.#path, 'a+', 0o640);
    try {
      let size = fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) {
          writeSync(fd, '\n');
          fsyncSync(fd);
          size++;
        }
      }
      fsyncDir(dirname(this.#path));
      this.#fd = fd;
      this.#size = size;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Deletes rotated files older than `maxAgeMs`; a failure is logged, not thrown. */
  #prune(): void {
    const now = this.#clock.now();
    this.#nextPrune = now + PRUNE_EVERY_MS;
    this.#housekeeping('old audit files not deleted', () => {
      for (const path of pruneRotated(this.#path, now - this.#limits.maxAgeMs))
        this.#log?.info({ path }, 'old audit file deleted');
    });
  }

  #housekeeping(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log?.warn({ path: this.#path, err: errorMessage(err) }, what);
    }
  }

  /** Logs a write failure once; commands, which are audited first, fail until it works. */
  #failed(err: unknown): void {
    const message = errorMessage(err);
    if (this.#failing === undefined)
      this.#log?.error({ path: this.#path, err: message }, 'audit log not written');
    this.#failing = message;
  }
}
