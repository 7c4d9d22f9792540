import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** In `data_dir`, beside the event store. */
export const NOTIFY_JOURNAL_FILE = 'notify-sent.json';

/**
 * What the notifier sent past its cursor, on disk (`<data_dir>/notify-sent.json`): the
 * cursor it was written at and the keys of the messages HA took since. Written (to a temp
 * file, then renamed over) after each message HA accepted, so a crash repeats at most the
 * message that was in flight; read at start, and used only while the store's cursor is
 * still the one it was written at.
 */
export interface SentRecord {
  readonly after: number;
  readonly keys: readonly string[];
}

export class SentJournal {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  /** The keys sent past `cursor`; none when the file is missing, unreadable or older. */
  load(cursor: number): string[] {
    try {
      const r = JSON.parse(readFileSync(this.#path, 'utf8')) as Partial<SentRecord>;
      if (r.after !== cursor || !Array.isArray(r.keys)) return [];
      return r.keys.filter((k): k is string => typeof k === 'string');
    } catch {
      return [];
    }
  }

  /** Throws when the disk refuses: the caller degrades to at-least-once and says so. */
  save(record: SentRecord): void {
    const tmp = `${this.#path}.tmp`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, this.#path);
  }
}
