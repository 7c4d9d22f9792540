import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { deserialize, serialize } from 'node:v8';
import type { Client, Subscription } from 'aedes';
import type MemoryPersistenceType from 'aedes-persistence/asyncPersistence.js';
import type Database from 'better-sqlite3';
import type { RetainedStore } from './retained-store.js';

// aedes' own in-memory persistence (a CommonJS class): its subscription trie is what
// matches a publish against the persistent sessions, as it does for aedes by default.
const MemoryPersistence = createRequire(import.meta.url)(
  'aedes-persistence/asyncPersistence.js',
) as typeof MemoryPersistenceType & { Packet: new (p: object) => Packet };

/** A packet as aedes hands it to the persistence (publish, or pubrel while QoS 2 is open). */
type Packet = Record<string, unknown> & { messageId?: number; brokerId?: string };

/** Runs one write to the session tables; a guard may skip it (persistence-guard.ts). */
export type SessionWrite = <T>(name: string, write: () => T) => T | undefined;

const TABLES = [
  'CREATE TABLE IF NOT EXISTS session_subscriptions (client TEXT NOT NULL, topic TEXT NOT NULL, ' +
    'options TEXT NOT NULL, PRIMARY KEY (client, topic)) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS session_outgoing (seq INTEGER PRIMARY KEY, client TEXT NOT NULL, ' +
    'broker_id TEXT, broker_counter INTEGER, message_id INTEGER, packet BLOB NOT NULL)',
  'CREATE INDEX IF NOT EXISTS session_outgoing_counter ON session_outgoing ' +
    '(client, broker_id, broker_counter)',
  'CREATE INDEX IF NOT EXISTS session_outgoing_message ON session_outgoing (client, message_id)',
  'CREATE TABLE IF NOT EXISTS session_incoming (client TEXT NOT NULL, message_id INTEGER NOT NULL, ' +
    'packet BLOB NOT NULL, PRIMARY KEY (client, message_id)) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS session_wills (client TEXT PRIMARY KEY, packet BLOB NOT NULL) ' +
    'WITHOUT ROWID',
];

/** Rows of an offline queue read per query while it is streamed to its client. */
const PAGE = 32;

/**
 * The embedded broker's persistence: retained messages in the RetainedStore, and the
 * persistent sessions (clean: false) in tables of their own in the same SQLite file:
 * subscriptions, offline QoS 1/2 queues, wills and inbound QoS 2 state.
 *
 * Subscriptions, wills and inbound QoS 2 state are held by aedes' in-memory persistence,
 * which this class extends (its trie matches each publish against the sessions), written
 * through to SQLite and read back into it at start. The offline queues live in SQLite only
 * and are read from there when their client comes back, so a client away for long costs
 * disk, not memory. Every write is synchronous: a message is queued on disk before aedes
 * acknowledges its publish.
 *
 * Before this, the sessions were in LevelDB (aedes-persistence-level): its native addon,
 * LevelDB's caches and threads and msgpack-lite, 76 modules in all, for about 1.5 MiB of
 * an idle agent's RSS (0.7 of it the addon's mapped pages; BENCHMARKS.md, agent-idle-rss).
 */
export class SessionStore extends MemoryPersistence {
  readonly #retained: RetainedStore;
  readonly #db: Database.Database;
  readonly #write: SessionWrite;
  readonly #s: ReturnType<typeof statements>;

  constructor(db: Database.Database, retained: RetainedStore, write?: SessionWrite) {
    super();
    for (const sql of TABLES) db.exec(sql);
    this.#db = db;
    this.#retained = retained;
    this.#write = write ?? ((_name, w) => w());
    this.#s = statements(db);
  }

  /** Whether the session tables hold nothing (a first start, or only clean sessions). */
  get empty(): boolean {
    return this.#s.anySession.get() === undefined;
  }

  /** Reads the stored sessions back into memory: aedes calls it once, before any client. */
  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    const subs = new Map<string, Subscription[]>();
    for (const r of this.#s.allSubs.all()) {
      const list = subs.get(r.client) ?? [];
      list.push({ topic: r.topic, ...(JSON.parse(r.options) as object) } as Subscription);
      subs.set(r.client, list);
    }
    for (const [id, list] of subs) await super.addSubscriptions(clientOf(id), list);
    for (const r of this.#s.allWills.all()) {
      await super.putWill(clientOf(r.client), deserialize(r.packet) as object);
    }
    for (const r of this.#s.allIncoming.all()) {
      await super.incomingStorePacket(clientOf(r.client), deserialize(r.packet) as object);
    }
  }

  override storeRetained(packet: { topic: string; payload: Buffer }): Promise<void> {
    try {
      this.#retained.store(packet);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  override createRetainedStream(pattern: string): Readable {
    return this.#retained.stream([pattern]);
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    return this.#retained.stream(patterns);
  }

  override async addSubscriptions(client: Client, subs: Subscription[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    this.#write('addSubscriptions', () =>
      this.#db.transaction(() => {
        for (const { topic, ...options } of subs) {
          this.#s.putSub.run(client.id, topic, JSON.stringify(options));
        }
      })(),
    );
  }

  override async removeSubscriptions(client: Client, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    this.#write('removeSubscriptions', () =>
      this.#db.transaction(() => {
        for (const topic of topics) this.#s.delSub.run(client.id, topic);
      })(),
    );
  }

  override async cleanSubscriptions(client: Client): Promise<void> {
    await super.cleanSubscriptions(client);
    this.#write('cleanSubscriptions', () => this.#s.delSubs.run(client.id));
  }

  override outgoingEnqueue(sub: { clientId: string }, packet: Packet): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet);
  }

  override outgoingEnqueueCombi(subs: { clientId: string }[], packet: Packet): Promise<void> {
    return settle(() => {
      if (subs.length === 0) return;
      const p = new MemoryPersistence.Packet(packet);
      const blob = serialize(p);
      this.#write('outgoingEnqueue', () =>
        this.#db.transaction(() => {
          for (const s of subs) {
            this.#s.enqueue.run(s.clientId, text(p.brokerId), num(p.brokerCounter), blob);
          }
        })(),
      );
    });
  }

  /**
   * The message id the broker gave a queued message when sending it, or (QoS 2) its pubrel
   * in place of the publish: aedes-persistence's rules, in SQL. While the disk refuses
   * writes, skipped whole, as the enqueue was.
   */
  override outgoingUpdate(client: Client, packet: Packet): Promise<void> {
    return settle(() => {
      this.#write('outgoingUpdate', () => {
        const brokerId = text(packet.brokerId);
        const found = this.#s.byCounter.get(client.id, brokerId, num(packet.brokerCounter));
        if (found) {
          // A message id names one queued message: one an earlier connection left on
          // another row (sent, never acknowledged) must not take this one's PUBACK.
          this.#s.forgetMessageId.run(client.id, num(packet.messageId), found.seq);
          return this.#s.setMessageId.run(num(packet.messageId), found.seq);
        }
        const same = this.#s.byOtherBroker.get(client.id, brokerId, num(packet.messageId));
        if (!same) throw new Error('no such packet');
        return this.#s.replace.run(
          ...[brokerId, num(packet.brokerCounter), num(packet.messageId)],
          ...[serialize({ ...packet }), same.seq],
        );
      });
    });
  }

  override outgoingClearMessageId(client: Client, packet: Packet): Promise<Packet | undefined> {
    return settle(() =>
      this.#write('outgoingClearMessageId', () => {
        const row = this.#s.byMessageId.get(client.id, num(packet.messageId));
        if (!row) return undefined;
        this.#s.dequeue.run(row.seq);
        return withMessageId(row);
      }),
    );
  }

  /** The client's queue as it is now, oldest first, read a page at a time. */
  override outgoingStream(client: Client): Readable {
    const last = this.#s.lastSeq.get(client.id)?.seq ?? 0;
    const s = this.#s;
    function* queued() {
      let after = 0;
      for (;;) {
        const rows = s.page.all(client.id, after, last, PAGE);
        for (const r of rows) yield withMessageId(r);
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.seq;
      }
    }
    return Readable.from(queued());
  }

  override async incomingStorePacket(client: Client, packet: Packet): Promise<void> {
    await super.incomingStorePacket(client, packet);
    const id = num(packet.messageId);
    this.#write('incomingStorePacket', () =>
      this.#s.putIncoming.run(client.id, id, serialize({ ...packet, messageId: id })),
    );
  }

  override async incomingDelPacket(client: Client, packet: Packet): Promise<void> {
    await super.incomingDelPacket(client, packet);
    this.#write('incomingDelPacket', () =>
      this.#s.delIncoming.run(client.id, num(packet.messageId)),
    );
  }

  override async cleanIncoming(client: Client): Promise<void> {
    await super.cleanIncoming(client);
    this.#write('cleanIncoming', () => this.#s.delIncomings.run(client.id));
  }

  override async putWill(client: Client, packet: Packet): Promise<void> {
    await super.putWill(client, packet);
    this.#write('putWill', () => this.#s.putWill.run(client.id, serialize({ ...packet })));
  }

  override async delWill(client: Client): Promise<unknown> {
    const will = await super.delWill(client);
    this.#write('delWill', () => this.#s.delWill.run(client.id));
    return will;
  }
}

function statements(db: Database.Database) {
  const p = <A extends unknown[], R = unknown>(sql: string) => db.prepare<A, R>(sql);
  type Queued = { seq: number; message_id: number | null; packet: Buffer };
  return {
    anySession: p<[], { one: 1 }>(
      'SELECT 1 AS one FROM session_subscriptions UNION ALL SELECT 1 FROM session_outgoing ' +
        'UNION ALL SELECT 1 FROM session_wills LIMIT 1',
    ),
    allSubs: p<[], { client: string; topic: string; options: string }>(
      'SELECT client, topic, options FROM session_subscriptions ORDER BY client, topic',
    ),
    putSub: p<[string, string, string]>(
      'INSERT OR REPLACE INTO session_subscriptions (client, topic, options) VALUES (?, ?, ?)',
    ),
    delSub: p<[string, string]>('DELETE FROM session_subscriptions WHERE client = ? AND topic = ?'),
    delSubs: p<[string]>('DELETE FROM session_subscriptions WHERE client = ?'),
    enqueue: p<[string, string | null, number | null, Buffer]>(
      'INSERT INTO session_outgoing (client, broker_id, broker_counter, packet) VALUES (?, ?, ?, ?)',
    ),
    byCounter: p<[string, string | null, number | null], { seq: number }>(
      'SELECT seq FROM session_outgoing WHERE client = ? AND broker_id IS ? ' +
        'AND broker_counter IS ? ORDER BY seq LIMIT 1',
    ),
    byOtherBroker: p<[string, string | null, number | null], { seq: number }>(
      'SELECT seq FROM session_outgoing WHERE client = ? AND broker_id IS NOT ? ' +
        'AND message_id IS ? ORDER BY seq LIMIT 1',
    ),
    forgetMessageId: p<[string, number | null, number]>(
      'UPDATE session_outgoing SET message_id = NULL WHERE client = ? AND message_id = ? ' +
        'AND seq != ?',
    ),
    setMessageId: p<[number | null, number]>(
      'UPDATE session_outgoing SET message_id = ? WHERE seq = ?',
    ),
    replace: p<[string | null, number | null, number | null, Buffer, number]>(
      'UPDATE session_outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, packet = ? ' +
        'WHERE seq = ?',
    ),
    byMessageId: p<[string, number | null], Queued>(
      'SELECT seq, message_id, packet FROM session_outgoing WHERE client = ? AND message_id IS ? ' +
        'ORDER BY seq LIMIT 1',
    ),
    dequeue: p<[number]>('DELETE FROM session_outgoing WHERE seq = ?'),
    lastSeq: p<[string], { seq: number | null }>(
      'SELECT max(seq) AS seq FROM session_outgoing WHERE client = ?',
    ),
    page: p<[string, number, number, number], Queued>(
      'SELECT seq, message_id, packet FROM session_outgoing WHERE client = ? AND seq > ? ' +
        'AND seq <= ? ORDER BY seq LIMIT ?',
    ),
    allIncoming: p<[], { client: string; packet: Buffer }>(
      'SELECT client, packet FROM session_incoming',
    ),
    putIncoming: p<[string, number | null, Buffer]>(
      'INSERT OR REPLACE INTO session_incoming (client, message_id, packet) VALUES (?, ?, ?)',
    ),
    delIncoming: p<[string, number | null]>(
      'DELETE FROM session_incoming WHERE client = ? AND message_id IS ?',
    ),
    delIncomings: p<[string]>('DELETE FROM session_incoming WHERE client = ?'),
    allWills: p<[], { client: string; packet: Buffer }>('SELECT client, packet FROM session_wills'),
    putWill: p<[string, Buffer]>(
      'INSERT OR REPLACE INTO session_wills (client, packet) VALUES (?, ?)',
    ),
    delWill: p<[string]>('DELETE FROM session_wills WHERE client = ?'),
  };
}

/** A synchronous step as the promise aedes awaits: a throw becomes a rejection. */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** A queued packet as stored, with the message id it was last sent under. */
function withMessageId(row: { message_id: number | null; packet: Buffer }): Packet {
  const packet = deserialize(row.packet) as Packet;
  if (row.message_id !== null) packet.messageId = row.message_id;
  return packet;
}

/** What aedes-persistence needs of a client when a session is read back: its id. */
function clientOf(id: string): Client {
  return { id } as Client;
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}
