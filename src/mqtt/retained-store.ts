import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { QlobberTrue } from 'qlobber';
import { storageFailure } from '../core/storage-failure.js';
import { RetainedOverlay, utf8Compare, type HeldRetained } from './retained-overlay.js';

/**
 * A retained message as the broker hands it to a new subscriber. A payload read from the
 * file is text when its bytes are UTF-8 (see `#write`), and bytes otherwise: mqtt-packet
 * writes either as the same bytes.
 */
export interface RetainedMessage {
  readonly cmd: 'publish';
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: 0 | 1 | 2;
  readonly retain: true;
}

// The same matching aedes uses.
const MATCHING = {
  separator: '/',
  wildcard_one: '+',
  wildcard_some: '#',
  match_empty_levels: true,
};
/**
 * Rows read per query while streaming, so no statement stays open across writes. Small:
 * a page stays alive until its last row is sent; 256 held ~4 MiB more at the peak of a
 * 30,000-message read than 32 (issue 15), when each payload was a Buffer of its own, for a
 * few more index seeks.
 */
const PAGE = 32;
/** Writes committed at once, at most; fewer when the event loop's turn ends first. */
const BATCH = 512;

/**
 * The broker's retained messages in SQLite, one row per topic.
 *
 * Why not in LevelDB, where the sessions were then: LevelDB maps its table files into memory, so a
 * subscriber reading every retained message (Home Assistant on `homeassistant/#`, 25,000
 * configs at 5,000 containers) left ~7 MiB of them resident; SQLite reads them with
 * pread into a small page cache.
 *
 * Writes are batched: a message is kept in memory (and served from there) until the end of
 * the event loop's turn, or BATCH messages, and then committed with the others of that turn
 * in one transaction: one commit each was ~7 % of the agent's CPU at 20,000 containers
 * (issue 15). The broker acknowledges a retained publish only once it is committed
 * (`durable()`, ordered-publish.ts), so what a publisher was told is stored survives the
 * agent's crash as before, when each message was its own transaction: WAL with
 * `synchronous = NORMAL`, a commit is in the WAL file when it returns, whatever happens to
 * the process; only a power cut can lose the last commits (none is fsynced before a
 * checkpoint), as before.
 *
 * A write the disk refuses (full, read-only) does not fail the publish: the message is held
 * in memory (RetainedOverlay), served from there, and written by `flush()` once the disk
 * takes writes again (issue 13 point 7).
 */
export class RetainedStore {
  readonly #db: Database.Database;
  readonly #put: Database.Statement<[string, number, Buffer | string]>;
  readonly #del: Database.Statement<[string]>;
  readonly #from: Database.Statement<[string, number], RetainedRow>;
  readonly #after: Database.Statement<[string, number], RetainedRow>;
  readonly #one: Database.Statement<[string], Omit<RetainedRow, 'topic'>>;
  /** Counts writes, so a message read earlier knows whether it may have gone stale. */
  #writes = 0;
  #upgraded = 0;
  /** Messages the disk refused, held until `flush()`. */
  readonly #overlay = new RetainedOverlay();
  /** Messages of this turn, not committed yet; never at the same time as held ones. */
  readonly #pending = new RetainedOverlay();
  #commitSoon: NodeJS.Immediate | undefined;
  /** Callbacks waiting for the pending messages' commit. */
  #durable: Array<() => void> = [];
  /** Told when a commit is refused and its messages are held (PersistenceGuard). */
  #onHeld: (() => void) | undefined;

  private constructor(db: Database.Database) {
    this.#db = db;
    // An update rewrites the row in place (same rowid), instead of a delete and an insert.
    this.#put = db.prepare(
      'INSERT INTO retained (topic, qos, payload) VALUES (?, ?, ?) ' +
        'ON CONFLICT (topic) DO UPDATE SET qos = excluded.qos, payload = excluded.payload',
    );
    this.#del = db.prepare('DELETE FROM retained WHERE topic = ?');
    const page = (op: string) =>
      db.prepare<[string, number], RetainedRow>(
        `SELECT topic, qos, payload FROM retained WHERE topic ${op} ? ORDER BY topic LIMIT ?`,
      );
    this.#from = page('>=');
    this.#after = page('>');
    this.#one = db.prepare('SELECT qos, payload FROM retained WHERE topic = ?');
  }

  static open(path: string): RetainedStore {
    const db = new Database(path, { timeout: 5_000 });
    try {
      db.pragma('journal_mode = WAL');
      // A power cut may lose the last retained messages, not corrupt the file; the agent
      // republishes its own states and configs, other clients theirs.
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -256');
      const upgraded = createOrUpgrade(db);
      storeTextAsText(db);
      const store = new RetainedStore(db);
      store.#upgraded = upgraded;
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Messages moved out of an older file's WITHOUT ROWID table when it was opened (0: none). */
  get upgraded(): number {
    return this.#upgraded;
  }

  /**
   * Whether the LevelDB an older version left was already reported (PRAGMA user_version 2;
   * 1 was "its retained messages were moved in", by the versions that still read it).
   */
  get levelNoted(): boolean {
    return (this.#db.pragma('user_version', { simple: true }) as number) >= 2;
  }

  noteLevel(): void {
    this.#db.pragma('user_version = 2');
  }

  /** The SQLite connection, for the broker's session tables beside this one (SessionStore). */
  get database(): Database.Database {
    return this.#db;
  }

  /**
   * Keeps the message as the topic's retained one; an empty payload clears the topic. It is
   * committed at the end of this turn of the event loop (see `durable`). While messages are
   * held (the disk refused one), new ones are held behind them.
   */
  store(m: { topic: string; payload: Buffer | string; qos?: number }): void {
    const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload;
    this.#writes++;
    if (this.#overlay.size > 0) return this.#overlay.set(m.topic, { qos: m.qos ?? 0, payload });
    this.#pending.set(m.topic, { qos: m.qos ?? 0, payload, at: this.#writes });
    if (this.#pending.size < BATCH) {
      this.#commitSoon ??= setImmediate(() => this.commit());
      return;
    }
    // A full batch goes now; its publishers hear of it outside this publish's own call.
    const waiting = this.#writeBatch();
    if (waiting.length > 0) queueMicrotask(() => wake(waiting));
  }

  /** Calls `listener` each time a refused commit leaves messages held in memory. */
  onHeld(listener: () => void): void {
    this.#onHeld = listener;
  }

  /**
   * Calls `done` once every message stored so far is committed (or held, the disk having
   * refused it): at once when none waits.
   */
  durable(done: () => void): void {
    if (this.#pending.size === 0) done();
    else this.#durable.push(done);
  }

  /**
   * Commits the pending messages in one transaction, then calls the `durable` callbacks. A
   * refusal (or any other failure) holds them in memory like a refused write and tells the
   * `onHeld` listener: the broker's persistence guard logs it and flushes them once the disk
   * takes writes again (persistence-guard.ts).
   */
  commit(): void {
    wake(this.#writeBatch());
  }

  /** Writes the pending messages; returns the callbacks waiting for them. */
  #writeBatch(): Array<() => void> {
    if (this.#commitSoon) clearImmediate(this.#commitSoon);
    this.#commitSoon = undefined;
    const batch = this.#pending.take();
    if (batch.length > 0) {
      try {
        this.#db.transaction(() => {
          for (const [topic, m] of batch) this.#write(topic, m.qos, m.payload);
        })();
      } catch {
        for (const [topic, m] of batch) this.#overlay.set(topic, m);
        this.#onHeld?.();
      }
    }
    const waiting = this.#durable;
    this.#durable = [];
    return waiting;
  }

  /** A message not on disk yet (this turn's, or held), newest first. */
  #inMemory(topic: string): HeldRetained | undefined {
    return this.#pending.get(topic) ?? this.#overlay.get(topic);
  }

  /** Retained messages held in memory because the disk refused them. */
  get held(): number {
    return this.#overlay.size;
  }

  /**
   * Writes the held messages in one transaction; true when none is left held. A refusal
   * keeps them all (the transaction rolled back); another error is thrown.
   */
  flush(): boolean {
    if (this.#overlay.size === 0) return true;
    const held = this.#overlay.take();
    try {
      this.#db.transaction(() => {
        for (const [topic, m] of held) this.#write(topic, m.qos, m.payload);
      })();
      return true;
    } catch (err) {
      for (const [topic, m] of held) if (!this.#overlay.has(topic)) this.#overlay.set(topic, m);
      if (storageFailure(err) === undefined) throw err;
      return false;
    }
  }

  /**
   * A UTF-8 payload (every state and discovery config) is stored as TEXT, anything else as
   * a BLOB; each reads back as the same bytes. Why: better-sqlite3 reads a BLOB into a
   * Buffer of its own, malloc'd outside the V8 heap, and one that outlives a young
   * collection (a new subscriber's retained messages wait in its socket's queue) is freed
   * only at the next full one. A subscriber reading every retained message (Home
   * Assistant's `homeassistant/#` at each restart; 25,000 configs at 5,000 containers) left
   * ~5 MiB of free holes resident in glibc's main arena, for good. TEXT reads back as a
   * string on the V8 heap, which its collections compact and give back (issue 15).
   */
  #write(topic: string, qos: number, payload: Buffer): void {
    if (payload.length === 0) this.#del.run(topic);
    else this.#put.run(topic, qos, isUtf8(payload) ? payload.toString('utf8') : payload);
  }

  /**
   * Every retained message matching one of the filters, each once, in topic order. A
   * message's qos and payload are those stored when it is first read, not when its page
   * was: see LatestRetained.
   */
  *match(filters: readonly string[]): Generator<RetainedMessage> {
    const matcher = new QlobberTrue(MATCHING);
    for (const f of filters) matcher.add(f);
    // Held and pending topics merge in, in topic order; they win over their stored rows.
    const keep = (t: string) => matcher.test(t);
    const held = [...new Set([...this.#pending.topics(keep), ...this.#overlay.topics(keep)])].sort(
      utf8Compare,
    );
    let h = 0;
    // Only the topics under each filter's fixed prefix are read (Home Assistant's
    // `homeassistant/#` skips every state; a client's `cmd/+/set` reads almost nothing),
    // not every retained message on each SUBSCRIBE.
    for (const prefix of scanPrefixes(filters)) {
      let rows = this.#from.all(prefix, PAGE);
      for (;;) {
        const writes = this.#writes; // as of this page, not of each yield
        let past = false;
        for (const r of rows) {
          if (!r.topic.startsWith(prefix)) {
            past = true;
            break;
          }
          while (h < held.length && utf8Compare(held[h]!, r.topic) < 0)
            yield* this.#heldOne(held[h++]!, writes);
          if (h < held.length && held[h] === r.topic) h++;
          if (!matcher.test(r.topic)) continue;
          const o = this.#inMemory(r.topic);
          // Not in memory, or stored after this page was read: as if it had gone to disk then.
          if (!o || (o.at ?? 0) > writes) yield new LatestRetained(this, r, writes);
          else if (o.payload.length > 0)
            yield new LatestRetained(this, { topic: r.topic, ...o }, writes);
        }
        if (past || rows.length < PAGE) break;
        rows = this.#after.all(rows[rows.length - 1]!.topic, PAGE);
      }
    }
    while (h < held.length) yield* this.#heldOne(held[h++]!, this.#writes);
  }

  /** A held message for match(), if it is still held and not a clearing. */
  *#heldOne(topic: string, writes: number): Generator<RetainedMessage> {
    const o = this.#inMemory(topic);
    if (o && o.payload.length > 0) yield new LatestRetained(this, { topic, ...o }, writes);
  }

  /** match() as the object stream aedes reads retained messages from. */
  stream(filters: readonly string[]): Readable {
    return Readable.from(this.match(filters));
  }

  /** How many writes so far; with reread(), how LatestRetained stays current. */
  get writes(): number {
    return this.#writes;
  }

  /** The topic's stored qos and payload now; an empty payload if it was cleared. */
  reread(topic: string): { qos: number; payload: Buffer | string } {
    return this.#inMemory(topic) ?? this.#one.get(topic) ?? { qos: 0, payload: Buffer.alloc(0) };
  }

  close(): void {
    this.commit();
    this.#db.close();
  }
}

/**
 * A retained message whose qos and payload are read again when aedes takes it, if the
 * store was written since its page was read.
 *
 * aedes writes a new subscriber's retained messages from this stream beside live delivery
 * (lib/handlers/subscribe.js, completeSubscribe → sendRetained), while the stream's
 * buffers hold rows read ahead. A row read before an update was stored could reach the
 * subscriber after that update's live copy and leave it with the older value for good
 * (it must end with the last retained message, [MQTT-3.3.1-6]); a state republished only
 * on change then stays stale in Home Assistant. sendRetained reads qos and payload and
 * calls client.deliverQoS at once, and live messages reach that client through the same
 * setImmediate queue (deliverQoS/deliver0, lib/client.js; a live one may wait in the
 * client's ClientQueue before, which only delays it): a value read then is as new as any
 * live message handed to the client before, and is queued ahead of any newer one. A
 * topic cleared in the meantime goes out with an empty payload, as live subscribers got
 * it. While nothing is written (steady states) the row from the page is used: no extra
 * reads.
 */
class LatestRetained implements RetainedMessage {
  readonly cmd = 'publish';
  readonly retain = true;
  readonly topic: string;
  readonly #store: RetainedStore;
  #qos: number;
  #payload: Buffer | string;
  #writes: number;

  constructor(store: RetainedStore, row: RetainedRow, writes: number) {
    this.#store = store;
    this.topic = row.topic;
    this.#qos = row.qos;
    this.#payload = row.payload;
    this.#writes = writes;
  }

  get qos(): 0 | 1 | 2 {
    this.#refresh();
    return qosOf(this.#qos);
  }

  get payload(): Buffer | string {
    this.#refresh();
    return this.#payload;
  }

  #refresh(): void {
    const writes = this.#store.writes;
    if (writes === this.#writes) return;
    this.#writes = writes;
    ({ qos: this.#qos, payload: this.#payload } = this.#store.reread(this.topic));
  }
}

const TABLE =
  'CREATE TABLE retained (id INTEGER PRIMARY KEY, topic TEXT NOT NULL UNIQUE, ' +
  'qos INTEGER NOT NULL, payload BLOB NOT NULL)';

/**
 * Creates the table, or moves an older file's rows into this layout (returns how many).
 *
 * The first layout was a WITHOUT ROWID table keyed by topic: SQLite keeps such a row whole
 * in its b-tree page only up to about a twentieth of a page, so every ~1 KiB discovery
 * config spilled into overflow pages (81 MB on disk for 24 MiB of payload at 20,000
 * containers) and each read or write of one touched several pages. A rowid table keeps a
 * row of up to ~4 KiB in its leaf; the topic's own index is small and still gives the
 * order and the lookups.
 */
function createOrUpgrade(db: Database.Database): number {
  const found = db
    .prepare<[], { sql: string }>(
      "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'retained'",
    )
    .get();
  if (!found) {
    db.exec(TABLE);
    return 0;
  }
  if (!/WITHOUT\s+ROWID/i.test(found.sql)) return 0;
  const moved = db.transaction(() => {
    db.exec('ALTER TABLE retained RENAME TO retained_old');
    db.exec(TABLE);
    const n = db
      .prepare(
        'INSERT INTO retained (topic, qos, payload) SELECT topic, qos, payload FROM retained_old ORDER BY topic',
      )
      .run().changes;
    db.exec('DROP TABLE retained_old');
    return n;
  })();
  // Gives the overflow pages back to the file system (once, on the upgrade).
  db.exec('VACUUM');
  return moved;
}

/**
 * Rewrites the UTF-8 payloads an older version stored as BLOBs as TEXT, the same bytes
 * (see RetainedStore's `#write`); binary payloads stay BLOBs. Once per file: the scan reads
 * every row (~130 ms and the whole 170 MB file at 20,000 containers), so a mark in
 * `retained_marks` says it was done and later opens skip it.
 */
function storeTextAsText(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS retained_marks (mark TEXT PRIMARY KEY) WITHOUT ROWID');
  const mark = 'text_payloads';
  if (db.prepare('SELECT 1 FROM retained_marks WHERE mark = ?').get(mark)) return;
  db.function('outpost_is_utf8', { deterministic: true }, (b: unknown) =>
    Buffer.isBuffer(b) && isUtf8(b) ? 1 : 0,
  );
  db.transaction(() => {
    db.exec(
      "UPDATE retained SET payload = CAST(payload AS TEXT) WHERE typeof(payload) = 'blob' " +
        'AND outpost_is_utf8(payload)',
    );
    db.prepare('INSERT INTO retained_marks (mark) VALUES (?)').run(mark);
  })();
}

/**
 * The fixed parts of the filters (before the first wildcard), each once, in the store's
 * order, none inside another: every topic a filter matches starts with one of them, and the
 * topics under one prefix are one run of the topic index.
 */
export function scanPrefixes(filters: readonly string[]): string[] {
  const prefixes = filters
    .map((f) => {
      const i = f.search(/[+#]/);
      return i < 0 ? f : f.slice(0, i);
    })
    .sort(utf8Compare);
  const out: string[] = [];
  for (const p of prefixes) {
    const last = out[out.length - 1];
    if (last === undefined || !p.startsWith(last)) out.push(p);
  }
  return out;
}

interface RetainedRow {
  topic: string;
  qos: number;
  payload: Buffer | string;
}

function wake(waiting: ReadonlyArray<() => void>): void {
  for (const done of waiting) done();
}

function qosOf(n: number): 0 | 1 | 2 {
  return n === 1 || n === 2 ? n : 0;
}
