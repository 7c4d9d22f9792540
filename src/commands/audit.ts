import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Origin } from './command.js';

export const AUDIT_FILE = 'audit.jsonl';

export type AuditKind =
  | 'command'
  | 'decision'
  | 'approval'
  | 'rejection'
  | 'result'
  | 'expiry'
  | 'maintenance'
  | 'silence'
  | 'ack'
  | 'recovery';

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

/**
 * The audit log: JSON lines appended to `<data_dir>/audit.jsonl`, opened O_APPEND and
 * never rewritten. Entries made in the same tick are written and fsynced together (group
 * commit), so a burst of commands costs one fsync; `append` resolves once its line is on
 * disk, and callers that are about to act wait for it.
 */
export class AuditLog {
  readonly #path: string;
  readonly #clock: Clock;
  #fd: number | undefined;
  #queue: { line: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  #scheduled = false;

  constructor(path: string, clock: Clock) {
    this.#path = path;
    this.#clock = clock;
  }

  get path(): string {
    return this.#path;
  }

  open(): void {
    mkdirSync(dirname(this.#path), { recursive: true });
    this.#fd ??= openSync(this.#path, 'a', 0o640);
  }

  append(entry: NewAuditEntry): Promise<void> {
    const line = `${JSON.stringify({ ts: new Date(this.#clock.now()).toISOString(), ...entry })}\n`;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ line, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Writes what is queued, then closes the file. */
  close(): Promise<void> {
    this.#flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    return Promise.resolve();
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    try {
      if (this.#fd === undefined) throw new Error('the audit log is not open');
      const data = Buffer.from(batch.map((b) => b.line).join(''));
      for (let off = 0; off < data.length;) off += writeSync(this.#fd, data, off);
      fsyncSync(this.#fd);
      for (const b of batch) b.resolve();
    } catch (err) {
      const e = new OutpostError('INTERNAL', `audit log ${this.#path}: ${errorMessage(err)}`, {
        cause: err,
      });
      for (const b of batch) b.reject(e);
    }
  }
}
