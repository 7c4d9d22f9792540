import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { StoreError } from './event-store.js';
import { diagnoseDir, isCorruption, storeFailure } from './sqlite-failure.js';

export type Db = Database.Database;

export const SCHEMA_VERSION = 1;

/**
 * One row per event. `seq` is assigned by the store from `state.last_seq`, never by SQLite's
 * rowid reuse: after the newest rows are dropped a rowid could be handed out again, and a
 * cursor would then skip the new event. Severity is stored as its rank (0 debug … 4
 * critical) so the overflow policy walks `events_sev_seq` lowest severity, oldest first.
 */
const SCHEMA_V1 = `
  CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    id      TEXT    NOT NULL,
    ts      INTEGER NOT NULL,
    node    TEXT    NOT NULL,
    type    TEXT    NOT NULL,
    sev     INTEGER NOT NULL,
    subject TEXT    NOT NULL,
    data    TEXT    NOT NULL,
    size    INTEGER NOT NULL
  );
  CREATE INDEX events_sev_seq ON events (sev, seq);
  CREATE INDEX events_ts ON events (ts);
  CREATE TABLE cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    count    INTEGER NOT NULL
  );
  INSERT INTO state (id, last_seq, bytes, count) VALUES (1, 0, 0, 0);
  CREATE TABLE drop_totals (sev INTEGER PRIMARY KEY, count INTEGER NOT NULL);
`;

export interface OpenedDb {
  db: Db;
  /** Why the database can only be read, when it can only be read. */
  readonlyCause?: string;
  /** Where a corrupt database was moved, when one was. */
  movedAside?: string;
}

/**
 * Opens (creating if needed) the event database. A corrupt one is moved aside as
 * `<file>.corrupt-<ts>` (with its -wal) and a fresh one started: losing the history is
 * bad, refusing to run the agent is worse. A directory that cannot be written to gives a
 * read-only store when SQLite can still read the file; so does `readonly`, without trying.
 */
export function openEventDb(
  path: string,
  log: Logger,
  now: () => number,
  readonly = false,
): OpenedDb {
  // A reader beside the running agent must not write: a database it thinks corrupt stays
  // where it is (the agent decides), and a missing one is an error rather than created.
  if (readonly) {
    try {
      return { db: connect(path, true), readonlyCause: 'opened read-only on request' };
    } catch (err) {
      throw storeFailure(err, path, 'opening read-only');
    }
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw storeFailure(err, path, 'creating the data directory');
  }
  let db: Db;
  try {
    db = connect(path, false);
  } catch (err) {
    if (isCorruption(err)) return startFresh(path, err, log, now);
    const failure = storeFailure(err, path, 'opening');
    if (failure.reason !== 'read_only') throw failure;
    try {
      const db = connect(path, true);
      log.error({ path, err: failure.message }, 'event store opened read-only');
      return { db, readonlyCause: failure.message };
    } catch {
      throw failure;
    }
  }
  // SQLite opens an existing WAL database for writing on a read-only mount as long as its
  // -wal and -shm are there; only the first write would fail. Say so now instead.
  const cause = diagnoseDir(dirname(path));
  if (cause?.reason === 'read_only') {
    log.error({ path, err: cause.text }, 'event store opened read-only');
    return { db, readonlyCause: cause.text };
  }
  return { db };
}

function startFresh(path: string, err: unknown, log: Logger, now: () => number): OpenedDb {
  const aside = `${path}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(path, aside);
    // The WAL belongs to the old file: replayed into a fresh one it would corrupt it.
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    }
  } catch (moveErr) {
    throw storeFailure(moveErr, path, `moving the corrupt database aside (${errorMessage(err)})`);
  }
  log.error(
    { path, movedTo: aside, err: errorMessage(err) },
    'event store database is corrupt: moved it aside and started an empty one',
  );
  try {
    return { db: connect(path, false), movedAside: aside };
  } catch (err2) {
    throw storeFailure(err2, path, 'opening a fresh database');
  }
}

function connect(path: string, readonly: boolean): Db {
  const db = new Database(path, { readonly, timeout: 5_000 });
  try {
    configure(db, readonly);
    verify(db, path);
    if (!readonly) migrate(db, path);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function configure(db: Db, readonly: boolean): void {
  if (!readonly) {
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode !== 'wal') throw new Error(`journal_mode is ${mode}, WAL could not be enabled`);
  }
  // https://www.sqlite.org/pragma.html#pragma_synchronous: "With synchronous=FULL in WAL
  // mode, an additional sync operation of the WAL file happens after each transaction
  // commit. The extra WAL sync following each transaction helps ensure that transactions
  // are durable across a power loss." NORMAL (better-sqlite3's build default in WAL mode,
  // SQLITE_DEFAULT_WAL_SYNCHRONOUS=1) may lose the last commits on power loss, and an
  // accepted event must never be lost. Set after journal_mode, which resets it.
  db.pragma('synchronous = FULL');
  if (db.pragma('synchronous', { simple: true }) !== 2) throw new Error('synchronous=FULL refused');
  // After a checkpoint, truncate the WAL back to this size instead of keeping its peak.
  db.pragma('journal_size_limit = 4194304');
}

function verify(db: Db, path: string): void {
  // quick_check: the O(N) structural check, without the index-content cross-check of
  // integrity_check that would make a big store slow to open.
  const rows = db.pragma('quick_check') as { quick_check: string }[];
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (problems.length > 0) {
    // Coded like SQLite's own corruption errors so openEventDb treats both alike.
    const err = new Error(`quick_check of ${path}: ${problems.slice(0, 3).join('; ')}`);
    throw Object.assign(err, { code: 'SQLITE_CORRUPT' });
  }
}

function migrate(db: Db, path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as {
    v: number | null;
  };
  const version = row.v ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'internal',
      path,
      `schema version ${version} is newer than this outpost supports (${SCHEMA_VERSION})`,
    );
  }
  if (version === 0) {
    db.transaction(() => {
      db.exec(SCHEMA_V1);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    }).immediate();
  }
}
