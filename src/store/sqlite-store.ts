import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import type { NewEvent, StoredEvent } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import {
  isSinkName,
  StoreError,
  type AppendCallback,
  type AppendInfo,
  type AppendListener,
  type Backlog,
  type EventQuery,
  type EventRecord,
  type EventStore,
  type SinkInfo,
  type SinkOptions,
  type StoreStats,
  type WireRecord,
} from './event-store.js';
import { GroupCommit } from './group-commit.js';
import { maintain, MaintenanceSchedule, type MaintenanceResult } from './maintenance.js';
import { storeFailure } from './sqlite-failure.js';
import { buildQuery } from './sqlite-query.js';
import {
  prepareStatements,
  readTotals,
  rowToEvent,
  rowToRecord,
  wireRowToRecord,
  type EventRow,
  type Statements,
} from './sqlite-rows.js';
import { openEventDb, type Db } from './sqlite-schema.js';
import { eventBytes, queueEvent, serialiseData, type QueuedEvent } from './queued-event.js';
import { commitBatch, type CommitResult, type WriteContext } from './sqlite-writes.js';
import { resolveLimits, type Limits, type SqliteEventStoreOptions } from './sqlite-options.js';
import { ulidGenerator } from './ulid.js';

export const EVENTS_DB_FILE = 'events.db';

export type { SqliteEventStoreOptions } from './sqlite-options.js';

interface Waiter {
  resolve(e: StoredEvent): void;
  reject(err: StoreError): void;
}

/** `append`'s promise, answered by enqueue's callback: one function for every append. */
const settle: AppendCallback<Waiter> = (err, stored, waiter) =>
  err ? waiter.reject(err) : waiter.resolve(stored!);
const settleAny = settle as AppendCallback<unknown>;

/** The event store on SQLite (WAL, synchronous=FULL) with group commit. */
export class SqliteEventStore implements EventStore {
  readonly path: string;
  readonly #db: Db;
  readonly #st: Statements;
  readonly #ctx: WriteContext;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #readonly: boolean;
  readonly #movedAside: string | undefined;
  readonly #opts: Limits;
  readonly #queue: GroupCommit;
  #closed = false;
  readonly #cursors = new Map<string, number>();
  readonly #listeners = new Set<AppendListener>();
  #lastSeq: number;
  #writeError: StoreError | undefined;
  readonly #maintenance: MaintenanceSchedule;

  /** Opens or creates the store; never throws for a corrupt file (it is moved aside). */
  static open(opts: SqliteEventStoreOptions): SqliteEventStore {
    const store = new SqliteEventStore(opts);
    if (!store.#readonly) store.#maintenance.start();
    if (store.#movedAside) store.#recordReset(store.#movedAside);
    return store;
  }

  private constructor(opts: SqliteEventStoreOptions) {
    this.path = join(opts.dataDir, EVENTS_DB_FILE);
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log ?? silentLogger();
    this.#opts = resolveLimits(opts);
    const now = () => this.#clock.now();
    const opened = openEventDb(this.path, this.#log, now, opts.readonly);
    this.#db = opened.db;
    this.#readonly = opened.readonlyCause !== undefined;
    this.#st = prepareStatements(this.#db);
    this.#ctx = {
      db: this.#db,
      st: this.#st,
      path: this.path,
      node: opts.node,
      nodeBytes: Buffer.byteLength(opts.node),
      nextId: ulidGenerator(opts.randomFill),
      now,
      maxBytes: this.#opts.maxBytes,
      targetBytes: this.#opts.targetBytes,
      maxEventBytes: this.#opts.maxEventBytes,
    };
    this.#lastSeq = this.#st.state.get()!.last_seq;
    this.#movedAside = opened.movedAside;
    this.#queue = new GroupCommit(
      {
        commit: (appends, acks) => commitBatch(this.#ctx, appends, acks),
        committed: (result, acks) => this.#committed(result, acks),
        failed: (err) => this.#failed(err),
        callbackFailed: (err) =>
          this.#log.error({ err: errorMessage(err) }, 'event store append callback failed'),
      },
      this.#opts.maxBatch,
    );
    this.#maintenance = new MaintenanceSchedule(this.#clock, this.#opts.maintenanceEvery, () =>
      this.#maintainNow(),
    );
    if (this.#readonly) {
      this.#writeError = new StoreError(
        'read_only',
        this.path,
        `opened read-only, appends are refused: ${opened.readonlyCause}`,
      );
    }
  }

  append(event: NewEvent): Promise<StoredEvent> {
    return new Promise((resolve, reject) => this.enqueue(event, settle, { resolve, reject }));
  }

  enqueue<T>(event: NewEvent, done: AppendCallback<T>, token: T): void {
    const callback = done as AppendCallback<unknown>;
    let q: QueuedEvent;
    try {
      const refused = this.#refusal();
      if (refused) throw refused;
      q = queueEvent(this.path, event, this.#clock.now(), callback, token);
    } catch (err) {
      const failure = err instanceof StoreError ? err : storeFailure(err, this.path, 'appending');
      // Later, as a commit's answer would be: a caller never hears back before it returns.
      queueMicrotask(() => done(failure, undefined, token));
      return;
    }
    this.#queue.append(q);
  }

  appendMany(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    try {
      const refused = this.#refusal();
      if (refused) throw refused;
      // Every event checked and serialised before any is queued: one bad event refuses all.
      const now = this.#clock.now();
      const queued = events.map((e) => {
        const waiter: Waiter = { resolve: () => undefined, reject: () => undefined };
        const q = queueEvent(this.path, e, now, settleAny, waiter);
        q.dataJson = serialiseData(this.path, e);
        eventBytes(this.#ctx, e, q.dataJson, this.#ctx.maxEventBytes);
        return { waiter, q };
      });
      return Promise.all(
        queued.map(
          ({ waiter, q }) =>
            new Promise<StoredEvent>((resolve, reject) => {
              waiter.resolve = resolve;
              waiter.reject = reject;
              this.#queue.append(q);
            }),
        ),
      );
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  registerSink(name: string, opts: SinkOptions = {}): Promise<number> {
    return this.#run(() => {
      if (!isSinkName(name)) {
        const why = `sink name ${JSON.stringify(name)}: expected 1-100 letters, digits, _ . : or -`;
        throw new StoreError('bad_request', this.path, why);
      }
      const start = opts.startAt === 'now' ? this.#lastSeq : 0;
      if (!this.#readonly) this.#st.addCursor.run(name, start);
      const cursor = this.#st.cursor.get(name)?.seq ?? start;
      this.#cursors.set(name, cursor);
      return cursor;
    });
  }

  readAfter(sink: string, limit: number, after?: number): Promise<StoredEvent[]> {
    return this.#run(() =>
      this.#events(this.#st.after.all(this.#readFrom(sink, limit, after), limit)),
    );
  }

  readWireAfter(sink: string, limit: number, after?: number): Promise<WireRecord[]> {
    return this.#run(() => {
      const rows = this.#st.afterWire.all(this.#readFrom(sink, limit, after), limit);
      const out: WireRecord[] = [];
      for (const row of rows) {
        const r = wireRowToRecord(row);
        if (r instanceof Error) this.#damaged(r);
        else out.push(r);
      }
      return out;
    });
  }

  readRecordsAfter(sink: string, limit: number, after?: number): Promise<EventRecord[]> {
    return this.#run(() => {
      const rows = this.#st.afterRecords.all(this.#readFrom(sink, limit, after), limit);
      const out: EventRecord[] = [];
      for (const row of rows) {
        const r = rowToRecord(row);
        if (r instanceof Error) this.#damaged(r);
        else out.push(r);
      }
      return out;
    });
  }

  ack(sink: string, seq: number): Promise<void> {
    return this.#run(() => {
      const current = this.#cursorOf(sink);
      if (!Number.isSafeInteger(seq) || seq < 0 || seq > this.#lastSeq) {
        const why = `ack of seq ${seq} by ${sink}: expected an integer from 0 to ${this.#lastSeq}`;
        throw new StoreError('bad_request', this.path, why);
      }
      if (seq <= current) return Promise.resolve();
      const refused = this.#refusal();
      if (refused) throw refused;
      return this.#queue.ack(sink, seq);
    });
  }

  cursor(sink: string): Promise<number> {
    return this.#run(() => this.#cursorOf(sink));
  }

  backlog(sink: string): Promise<Backlog> {
    return this.#run(() => {
      const cursor = this.#cursorOf(sink);
      const row = this.#st.backlog.get(cursor)!;
      const oldestTs = row.oldest === null ? undefined : new Date(row.oldest).toISOString();
      return { cursor, count: row.n, oldestTs };
    });
  }

  sinks(): Promise<SinkInfo[]> {
    return this.#run(() =>
      this.#st.cursors.all().map((r) => ({
        name: r.sink,
        cursor: this.#cursors.get(r.sink) ?? r.seq,
        registered: this.#cursors.has(r.sink),
      })),
    );
  }

  query(q: EventQuery = {}): Promise<StoredEvent[]> {
    return this.#run(() => {
      let built;
      try {
        built = buildQuery(q);
      } catch (err) {
        throw new StoreError('bad_request', this.path, `query: ${errorMessage(err)}`);
      }
      return this.#events(this.#db.prepare<unknown[], EventRow>(built.sql).all(...built.params));
    });
  }

  stats(): Promise<StoreStats> {
    return this.#run(() => ({
      ...readTotals(this.#st),
      maxBytes: this.#opts.maxBytes,
      commits: this.#queue.commits,
      appended: this.#queue.appended,
      writable: this.#writeError === undefined,
      lastError: this.#writeError?.message,
    }));
  }

  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Retention (silent: acked by every registered sink, older than `retention`) then the age
   * bound (recorded as events_dropped). Runs on the clock every `maintenanceEvery`.
   */
  maintain(): Promise<MaintenanceResult> {
    return this.#maintenance.run();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#maintenance.stop();
    this.#queue.close();
    this.#db.close();
  }

  async #maintainNow(): Promise<MaintenanceResult> {
    if (this.#closed || this.#readonly) return { pruned: 0, expired: 0 };
    try {
      return await maintain(this.#ctx, {
        now: this.#clock.now(),
        retention: this.#opts.retention,
        maxAge: this.#opts.maxAge,
        ackedUpTo: this.#cursors.size > 0 ? Math.min(...this.#cursors.values()) : undefined,
        stopped: () => this.#closed,
        committed: (result) => this.#afterCommit(result),
      });
    } catch (err) {
      this.#log.warn({ path: this.path, err: errorMessage(err) }, 'event store maintenance failed');
      return { pruned: 0, expired: 0 };
    }
  }

  #committed(result: CommitResult, acks: ReadonlyMap<string, number>): void {
    if (this.#writeError && !this.#readonly) {
      this.#log.info({ path: this.path }, 'event store writable again');
      this.#writeError = undefined;
    }
    for (const [sink, seq] of acks) {
      const c = this.#cursors.get(sink);
      if (c !== undefined) this.#cursors.set(sink, Math.max(seq, c));
    }
    this.#afterCommit(result);
  }

  #failed(err: unknown): StoreError {
    const failure = storeFailure(err, this.path, 'appending');
    // Logged once per outage: a full disk fails every append until it is fixed.
    if (!this.#writeError) {
      this.#log.error({ path: this.path, err: failure.message }, 'event store cannot write');
    }
    this.#writeError = failure;
    return failure;
  }

  #afterCommit(result: CommitResult): void {
    this.#lastSeq = Math.max(this.#lastSeq, result.lastSeq);
    if (result.dropped) {
      this.#log.warn({ path: this.path, ...result.dropped }, 'event store full: dropped events');
    }
    if (result.added.length === 0) return;
    const info: AppendInfo = { lastSeq: result.lastSeq, events: result.added };
    for (const listener of this.#listeners) {
      try {
        listener(info);
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'event store append listener failed');
      }
    }
  }

  /** Runs a read or bookkeeping step as a promise, mapping SQLite errors to StoreErrors. */
  async #run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('closed', this.path, 'the store is closed');
    try {
      return await fn();
    } catch (err) {
      throw storeFailure(err, this.path, 'reading');
    }
  }

  #refusal(): StoreError | undefined {
    if (this.#closed) return new StoreError('closed', this.path, 'the store is closed');
    if (this.#readonly) return this.#writeError;
    return undefined;
  }

  #cursorOf(sink: string): number {
    const c = this.#cursors.get(sink);
    if (c === undefined) {
      throw new StoreError(
        'unknown_sink',
        this.path,
        `sink ${JSON.stringify(sink)} is not registered`,
      );
    }
    return c;
  }

  #events(rows: EventRow[]): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const row of rows) {
      const e = rowToEvent(row);
      if (e instanceof Error) this.#damaged(e);
      else out.push(e);
    }
    return out;
  }

  #damaged(err: Error): void {
    this.#log.error({ path: this.path, err: err.message }, 'skipping a damaged event');
  }

  /** Where a sink's read starts; throws for an unknown sink or a bad limit. */
  #readFrom(sink: string, limit: number, after: number | undefined): number {
    const from = Math.max(this.#cursorOf(sink), after ?? 0);
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new StoreError('bad_request', this.path, `limit ${limit}: expected a positive integer`);
    }
    return from;
  }

  #recordReset(movedTo: string): void {
    const data = { moved_to: movedTo };
    this.append({
      type: 'event_store_reset',
      severity: 'error',
      subject: 'event_store',
      data,
    }).catch((err: unknown) =>
      this.#log.error({ err: errorMessage(err) }, 'cannot record the reset'),
    );
  }
}
