import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { removeTempFiles } from '../src/core/atomic-file.js';
import { errorMessage } from '../src/core/errors.js';
import { isCorruption } from '../src/store/sqlite-failure.js';
import { readRegistryFile } from './registry-json.js';
import { deviceKey } from './registry-keys.js';
import type { DiscoveryRegistry, RegistryChange, RegistryEntry } from './registry.js';

/** The registry's database, in the data dir beside the event store's. */
export const DISCOVERY_DB_FILE = 'discovery.db';

/** Where a registry reports what it recovered from, and a migration. */
export interface WarnSink {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface SqliteRegistryOptions {
  readonly log?: WarnSink;
  /** An older version's JSON registry file: moved in once, then removed. */
  readonly migrateFrom?: string;
}

type Db = Database.Database;

const SCHEMA_VERSION = 1;

// One row per published entity config, keyed by its topic, indexed by device so a round
// reads and writes one device's rows, never the whole site's.
const SCHEMA = `
  CREATE TABLE published (
    topic        TEXT PRIMARY KEY,
    device       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    state_topics TEXT NOT NULL,
    device_topic TEXT,
    observed     INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX published_device ON published (device, topic);
`;

interface Row {
  topic: string;
  device: string;
  hash: string;
  state_topics: string;
  device_topic: string | null;
  observed: number | null;
}

const COLUMNS = 'topic, device, hash, state_topics, device_topic, observed';

/**
 * The discovery registry on SQLite (WAL). Every change is one transaction. Durability is
 * synchronous=NORMAL: a power cut may lose the last rounds' rows, and then the configs
 * they recorded are published again, or removed again, which Home Assistant takes as is.
 */
export class SqliteDiscoveryRegistry implements DiscoveryRegistry {
  readonly path: string;
  readonly #db: Db;
  readonly #st: ReturnType<typeof prepare>;
  /** What was wrong with the file when it had to be set aside. */
  readonly loadProblem: string | undefined;

  private constructor(path: string, db: Db, problem: string | undefined) {
    this.path = path;
    this.#db = db;
    this.#st = prepare(db);
    this.loadProblem = problem;
  }

  /**
   * Opens (or creates) the database; a corrupt one is set aside and reported. An older
   * version's JSON file is moved in once (so an upgrade neither republishes nor orphans an
   * entity) and removed after its rows are committed.
   */
  static async open(
    path: string,
    opts: SqliteRegistryOptions = {},
  ): Promise<SqliteDiscoveryRegistry> {
    mkdirSync(dirname(path), { recursive: true });
    const { db, problem } = openDb(path, opts.log);
    const registry = new SqliteDiscoveryRegistry(path, db, problem);
    if (opts.migrateFrom !== undefined) {
      try {
        await registry.#migrate(opts.migrateFrom, opts.log);
      } catch (err) {
        registry.close();
        throw err;
      }
    }
    return registry;
  }

  get(topic: string): RegistryEntry | undefined {
    const row = this.#st.get.get(topic) as Row | undefined;
    return row && toEntry(row, new Map());
  }

  list(): Array<[string, RegistryEntry]> {
    return this.#entries(this.#st.all.all() as Row[]);
  }

  device(deviceId: string): Array<[string, RegistryEntry]> {
    return this.#entries(this.#st.device.all(deviceId) as Row[]);
  }

  deviceIds(): string[] {
    return (this.#st.devices.all() as { device: string }[]).map((r) => r.device);
  }

  set(topic: string, entry: RegistryEntry): Promise<void> {
    return this.apply({ set: [[topic, entry]] });
  }

  delete(topic: string): Promise<void> {
    return this.apply({ delete: [topic] });
  }

  apply(change: RegistryChange): Promise<void> {
    try {
      this.#write(change);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #write(change: RegistryChange): void {
    this.#db.transaction(() => {
      for (const topic of change.delete ?? []) this.#st.delete.run(topic);
      for (const [topic, e] of change.set ?? []) {
        this.#st.upsert.run(
          topic,
          deviceKey(e),
          e.hash,
          JSON.stringify(e.stateTopics),
          e.deviceTopic ?? null,
          e.observed === undefined ? null : e.observed ? 1 : 0,
        );
      }
    })();
  }

  #entries(rows: Row[]): Array<[string, RegistryEntry]> {
    // A device's entities share their state topics (five per container): one copy each.
    const lists = new Map<string, readonly string[]>();
    return rows.map((r) => [r.topic, toEntry(r, lists)]);
  }

  async #migrate(file: string, log: WarnSink | undefined): Promise<void> {
    await removeTempFiles(file);
    const found = await readRegistryFile(file);
    if (found === undefined) return;
    if ('problem' in found) {
      const aside = `${file}.corrupt`;
      await rename(file, aside).catch(() => undefined);
      log?.warn(
        { path: file, movedTo: aside, problem: found.problem },
        'old discovery registry unreadable; not migrated (configs will be republished)',
      );
      return;
    }
    // Rows already here win: the file is older than anything this registry wrote.
    this.#db.transaction(() => {
      for (const [topic, e] of found.entries) {
        if (this.#st.get.get(topic) === undefined) this.#write({ set: [[topic, e]] });
      }
    })();
    await rm(file, { force: true });
    log?.info?.(
      { from: file, to: this.path, entries: found.entries.size },
      'discovery registry moved from its JSON file into SQLite',
    );
  }
}

function prepare(db: Db) {
  return {
    get: db.prepare(`SELECT ${COLUMNS} FROM published WHERE topic = ?`),
    all: db.prepare(`SELECT ${COLUMNS} FROM published ORDER BY topic`),
    device: db.prepare(`SELECT ${COLUMNS} FROM published WHERE device = ? ORDER BY topic`),
    devices: db.prepare('SELECT DISTINCT device FROM published ORDER BY device'),
    delete: db.prepare('DELETE FROM published WHERE topic = ?'),
    upsert: db.prepare(
      `INSERT INTO published (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (topic) DO UPDATE SET device = excluded.device, hash = excluded.hash,
         state_topics = excluded.state_topics, device_topic = excluded.device_topic,
         observed = excluded.observed`,
    ),
  };
}

function toEntry(r: Row, lists: Map<string, readonly string[]>): RegistryEntry {
  let stateTopics = lists.get(r.state_topics);
  if (stateTopics === undefined) {
    stateTopics = JSON.parse(r.state_topics) as string[];
    lists.set(r.state_topics, stateTopics);
  }
  const entry: { -readonly [K in keyof RegistryEntry]: RegistryEntry[K] } = {
    hash: r.hash,
    stateTopics,
  };
  if (r.device_topic !== null) entry.deviceTopic = r.device_topic;
  if (r.device !== '') entry.deviceId = r.device;
  if (r.observed !== null) entry.observed = r.observed === 1;
  return entry;
}

/** Opens the database; a corrupt one is moved aside (with its WAL) and a fresh one made. */
function openDb(path: string, log: WarnSink | undefined): { db: Db; problem?: string } {
  try {
    return { db: connect(path) };
  } catch (err) {
    if (!isCorruption(err)) throw err;
    const aside = `${path}.corrupt`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    }
    const problem = errorMessage(err);
    log?.warn(
      { path, movedTo: aside, problem },
      'discovery registry unreadable; starting empty (configs will be republished)',
    );
    return { db: connect(path), problem };
  }
}

function connect(path: string): Db {
  const db = new Database(path, { timeout: 5_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // A round reads and writes one device's rows at a time, and a site's file outgrows any
    // cache (7 MiB at 5,000 containers): SQLite's default 2 MiB page cache, filled by the
    // quick_check below, only held malloc'd pages the OS page cache holds anyway (issue 15).
    db.pragma('cache_size = -256');
    const problems = (db.pragma('quick_check') as { quick_check: string }[])
      .map((r) => r.quick_check)
      .filter((r) => r !== 'ok');
    if (problems.length > 0) {
      const err = new Error(`quick_check of ${path}: ${problems.slice(0, 3).join('; ')}`);
      throw Object.assign(err, { code: 'SQLITE_CORRUPT' });
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`${path}: schema version ${version} is newer than this outpost's`);
    }
    if (version === 0) {
      db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
