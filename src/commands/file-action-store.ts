import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { ActionStore } from './action-store.js';
import { actionRecordSchema, type ActionRecord } from './actions.js';

export const ACTIONS_FILE = 'actions.jsonl';

export interface FileActionStoreOptions {
  /** Warnings about damaged lines skipped while loading. */
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Actions as an append-only JSON-lines log (`{"put": record}` / `{"del": id}`), fsynced
 * on every write. A crash can only leave a torn last line, which loading cuts off; a
 * damaged line elsewhere is skipped with a warning. When dead lines outnumber live
 * records the file is rewritten, atomically (writeFileAtomicSync).
 */
export class FileActionStore implements ActionStore {
  readonly #path: string;
  readonly #records = new Map<string, ActionRecord>();
  #fd: number | undefined;
  #size = 0;
  #lines = 0;

  private constructor(path: string) {
    this.#path = path;
  }

  static open(path: string, opts: FileActionStoreOptions = {}): Promise<FileActionStore> {
    try {
      mkdirSync(dirname(path), { recursive: true });
      const store = new FileActionStore(path);
      store.#load(opts);
      store.#reopen();
      return Promise.resolve(store);
    } catch (err) {
      return Promise.reject(storeError(`cannot open ${path}`, err));
    }
  }

  get(id: string): ActionRecord | undefined {
    return this.#records.get(id);
  }

  list(): ActionRecord[] {
    return [...this.#records.values()];
  }

  put(record: ActionRecord): Promise<void> {
    const copy = structuredClone(record);
    return this.#write({ put: copy }, () => this.#records.set(copy.id, copy));
  }

  delete(id: string): Promise<void> {
    if (!this.#records.has(id)) return Promise.resolve();
    return this.#write({ del: id }, () => this.#records.delete(id));
  }

  close(): Promise<void> {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    return Promise.resolve();
  }

  #write(line: object, apply: () => void): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined)
      return Promise.reject(storeError('write', new Error('the store is closed')));
    try {
      const data = Buffer.from(`${JSON.stringify(line)}\n`);
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
      fsyncSync(fd);
      this.#size += data.length;
      this.#lines++;
      apply();
    } catch (err) {
      // A short write (disk full) must not leave half a line for the next one to follow.
      try {
        ftruncateSync(fd, this.#size);
      } catch {
        // loading cuts a torn tail off anyway
      }
      return Promise.reject(storeError(`cannot write ${this.#path}`, err));
    }
    if (this.#lines > 2 * this.#records.size + 64) {
      try {
        this.#compact();
      } catch {
        // The log as it is stays valid; compaction is tried again on the next write.
      }
    }
    return Promise.resolve();
  }

  #reopen(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = openSync(this.#path, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  #load(opts: FileActionStoreOptions): void {
    if (!existsSync(this.#path)) return;
    const text = readFileSync(this.#path, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      // A torn last line: the write that a crash interrupted was never acknowledged.
      opts.log?.warn({ file: this.#path }, 'action store: cut off a torn last line');
      truncateSync(this.#path, Buffer.byteLength(text.slice(0, end)));
    }
    const lines = text.slice(0, end).split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      this.#lines++;
      if (!this.#apply(line)) {
        opts.log?.warn({ file: this.#path, line: i + 1 }, 'action store: skipped a damaged line');
      }
    });
  }

  #apply(line: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return false;
    }
    const v = value as { put?: unknown; del?: unknown } | null;
    if (typeof v?.del === 'string') {
      this.#records.delete(v.del);
      return true;
    }
    const parsed = actionRecordSchema.safeParse(v?.put);
    if (!parsed.success) return false;
    this.#records.set(parsed.data.id, parsed.data);
    return true;
  }

  #compact(): void {
    const body = this.list()
      .map((r) => `${JSON.stringify({ put: r })}\n`)
      .join('');
    writeFileAtomicSync(this.#path, body);
    this.#reopen();
    this.#lines = this.#records.size;
  }
}

function storeError(what: string, err: unknown): OutpostError {
  return new OutpostError('INTERNAL', `action store: ${what}: ${errorMessage(err)}`, {
    cause: err,
  });
}
