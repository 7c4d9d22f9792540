import { Buffer } from 'node:buffer';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { errorMessage, OutpostError } from '../core/errors.js';
import { isHistoryOnly, toWireEvent, type StoredEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { EventStore } from '../store/event-store.js';
import { SinkRunner } from './sink-runner.js';

/**
 * The event journal (issue 5): every event mirrored as one JSON line, the wire form, in
 * `<dir>/<YYYY-MM-DD of the event's ts, UTC>/<node>/events.jsonl` — the layout existing
 * observers and grep already read. Append-only: a line once written is never rewritten.
 * History-only events (the InfluxDB bridge's samples: `isHistoryOnly`) are passed over.
 *
 * Delivery is at least once. A batch counts as delivered only after its lines are fsynced,
 * so the sink cursor never passes a line that is not on disk; a crash (or a failed write)
 * after the lines were written but before the cursor moved writes them again on the next
 * run. Readers that must not double count dedupe on `id`. A line torn by a crash or a full
 * disk is left as it is and ended with a newline before the next append, so every other
 * line still parses; readers skip a line that does not.
 */

export const JOURNAL_FILE = 'events.jsonl';
/** The journal's cursor in the event store. */
export const JOURNAL_SINK = 'journal';

// Node ids are `[a-zA-Z0-9_-]` (config schema); anything else must not become a path level.
const NODE_LEVEL = /^[a-zA-Z0-9_-]+$/;

/** Where an event's line goes: the UTC day of its ts, then its node. */
export function journalPath(dir: string, e: Pick<StoredEvent, 'ts' | 'node'>): string {
  const ms = Date.parse(e.ts);
  if (Number.isNaN(ms)) throw new RangeError(`event ts ${JSON.stringify(e.ts)}: not a time`);
  if (!NODE_LEVEL.test(e.node)) {
    throw new RangeError(`event node ${JSON.stringify(e.node)}: not a node id`);
  }
  return join(dir, new Date(ms).toISOString().slice(0, 10), e.node, JOURNAL_FILE);
}

/** One journal line: the event as published on the wire, newline-terminated. */
export function journalLine(e: StoredEvent): string {
  return `${JSON.stringify(toWireEvent(e))}\n`;
}

/**
 * `journal.dir` as configured, made absolute like `data_dir`: relative to the config file's
 * directory; `<data_dir>/journal` when unset.
 */
export function resolveJournalDir(
  dir: string | undefined,
  dataDir: string,
  configFile: string | undefined,
): string {
  if (dir === undefined) return join(dataDir, 'journal');
  if (isAbsolute(dir)) return dir;
  return resolve(configFile ? dirname(configFile) : process.cwd(), dir);
}

/** A journal file could not be written; names the file. Retryable: space may be freed. */
export class JournalError extends OutpostError {
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const full = (cause as NodeJS.ErrnoException | null)?.code === 'ENOSPC';
    super(
      'INTERNAL',
      `journal ${path}: cannot append: ${errorMessage(cause)}` +
        (full ? ' (disk full: retried until space is freed)' : ''),
      { retryable: !(cause instanceof RangeError), cause },
    );
    this.name = 'JournalError';
    this.path = path;
  }
}

/** The file operations the journal uses; tests replace them (a failing or hanging fsync). */
export type JournalFile = Pick<FileHandle, 'writeFile' | 'sync' | 'close' | 'stat' | 'read'>;
/** `a+`: appends (O_APPEND) and reads the last byte; `r`: a directory, to fsync it. */
export type OpenFile = (path: string, flags: 'a+' | 'r') => Promise<JournalFile>;

export interface JournalOptions {
  /** The journal's root, absolute (see resolveJournalDir). */
  dir: string;
  open?: OpenFile;
}

/** Writes batches of events to their journal files; `deliver` fits a sink runner. */
export class Journal {
  readonly dir: string;
  readonly #open: OpenFile;
  /** Files whose directory entries were fsynced in this process. */
  readonly #synced = new Set<string>();
  /** Deliveries run one at a time, in call order: a file gets its lines in seq order. */
  #tail: Promise<unknown> = Promise.resolve();
  /** Bumped by a failure: deliveries queued behind it give up rather than write past it. */
  #generation = 0;

  constructor(opts: JournalOptions) {
    this.dir = opts.dir;
    this.#open = opts.open ?? ((path, flags) => open(path, flags));
  }

  /**
   * Appends the events' lines (in the given order, seq order from the store) and fsyncs
   * each file touched; resolves only when every line is on disk. Rejects with a
   * JournalError naming the file otherwise; lines already written stay (at least once).
   * Calls made while one runs wait for it; those queued behind a failure reject unwritten,
   * since the runner sends them again after the failed batch.
   */
  deliver(events: readonly StoredEvent[]): Promise<void> {
    const generation = this.#generation;
    const run = this.#tail.then(() => {
      if (generation !== this.#generation) {
        throw new OutpostError('INTERNAL', 'journal: an earlier batch failed; not written', {
          retryable: true,
        });
      }
      return this.#write(events).catch((err: unknown) => {
        this.#generation++;
        throw err;
      });
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #write(events: readonly StoredEvent[]): Promise<void> {
    const byFile = new Map<string, string[]>();
    for (const e of events) {
      // The InfluxDB history's samples are not events anyone reads here (issue 19).
      if (isHistoryOnly(e.type)) continue;
      let path: string;
      try {
        path = journalPath(this.dir, e);
      } catch (err) {
        throw new JournalError(join(this.dir, '?', e.node, JOURNAL_FILE), err);
      }
      const lines = byFile.get(path) ?? [];
      lines.push(journalLine(e));
      byFile.set(path, lines);
    }
    for (const [path, lines] of byFile) {
      try {
        await this.#append(path, lines.join(''));
      } catch (err) {
        throw new JournalError(path, err);
      }
    }
  }

  async #append(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const file = await this.#open(path, 'a+');
    try {
      const torn = await endsTorn(file);
      await file.writeFile(torn ? `\n${text}` : text);
      await file.sync();
    } finally {
      // After a successful fsync a failing close cannot lose the lines; before it, the
      // write or fsync error is the one to report.
      await file.close().catch(() => undefined);
    }
    if (!this.#synced.has(path)) {
      await this.#syncDirs(path);
      // One entry per day and node: bounded in practice; cleared rather than tracked by age.
      if (this.#synced.size >= 64) this.#synced.clear();
      this.#synced.add(path);
    }
  }

  /**
   * A new file, or new day and node directories, survive a power loss only once the
   * directories holding them are fsynced too (fsync(2): "does not necessarily ensure that
   * the entry in the directory containing the file has also reached disk").
   */
  async #syncDirs(path: string): Promise<void> {
    const top = dirname(this.dir);
    for (let d = dirname(path); ; d = dirname(d)) {
      const handle = await this.#open(d, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close().catch(() => undefined);
      }
      if (d === top || d === dirname(d)) return;
    }
  }
}

/** True when the file's last byte is not a newline: a line torn by a crash or a full disk. */
async function endsTorn(file: JournalFile): Promise<boolean> {
  const { size } = await file.stat();
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  await file.read(last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

export interface JournalSinkOptions {
  store: EventStore;
  journal: Pick<Journal, 'deliver'>;
  /** Events per delivery (one fsync per file each); default 500. */
  batch?: number;
  /** Delay before writing again after a failure; default 1 s doubling to 60 s, jittered. */
  retry?: { initialMs: number; maxMs: number };
  clock?: Clock;
  log: Logger;
}

/**
 * The journal as a sink: drains the store through the `journal` cursor, which moves only
 * over batches whose lines are fsynced; a failed batch is written again after a backoff.
 * One batch at a time (window = batch): a file gets its lines in seq order.
 */
export function journalSink(opts: JournalSinkOptions): SinkRunner {
  const batch = opts.batch ?? 500;
  return new SinkRunner({
    store: opts.store,
    name: JOURNAL_SINK,
    deliver: (events) => opts.journal.deliver(events),
    window: batch,
    batch,
    retry: opts.retry,
    clock: opts.clock,
    log: opts.log,
  });
}
