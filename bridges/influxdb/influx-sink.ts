import type { IWriteOptions } from 'influx';
import type { Clock } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import { SinkRunner, type SinkRunnerStatus } from '../../src/sinks/sink-runner.js';
import type { EventRecord, EventStore } from '../../src/store/event-store.js';
import {
  PointWriter,
  httpStatus,
  influxReason,
  type SetAside,
  type WriteBody,
} from './point-writer.js';
import { eventLines } from './lines.js';
import { WriteBatcher } from './write-batcher.js';

/** The sink's cursor in the event store. */
export const INFLUX_SINK = 'influxdb';

export interface InfluxSinkOptions {
  store: EventStore;
  /** Its cursor's name (default `influxdb`). */
  cursor?: string;
  write: WriteBody;
  /** Creates the database (a 1.x server answering 404 "database not found"). */
  createDatabase?(): Promise<void>;
  options: IWriteOptions;
  batchSize: number;
  flushMs: number;
  /** Write requests at once, at most (default 2): the next is built while one is written. */
  inFlight?: number;
  retry: { initialMs: number; maxMs: number };
  clock: Clock;
  log: Logger;
  /** Told of each point InfluxDB refused (set aside), with the count so far. */
  onRefused?: (p: SetAside, total: number) => void;
}

/** What `GET /api/health/influxdb` shows. */
export interface InfluxSinkReport {
  runner: SinkRunnerStatus;
  written: number;
  set_aside: number;
  recent_set_aside: readonly SetAside[];
  last_error: string | null;
}

/**
 * The InfluxDB history (issue 19): a sink with its own cursor on the event store
 * (docs/architecture.md "Sinks"). The cursor moves only over events whose points InfluxDB
 * acknowledged, so while InfluxDB is down the events wait on disk and go out when it
 * returns, in seq order; deterministic timestamps make a re-sent batch overwrite itself.
 */
export class InfluxSink implements Component {
  readonly name = 'influxdb-sink';
  readonly #o: InfluxSinkOptions;
  readonly #writer: PointWriter;
  readonly #batcher: WriteBatcher;
  readonly #runner: SinkRunner<EventRecord>;
  readonly #log: Logger;
  #lastError: string | null = null;
  #createTried = false;

  constructor(opts: InfluxSinkOptions) {
    this.#o = opts;
    const log = opts.log.child({ component: 'influxdb' });
    this.#log = log;
    this.#writer = new PointWriter({
      write: (body, options) => this.#write(body, options),
      options: opts.options,
      batchSize: opts.batchSize,
      log,
      ...(opts.onRefused ? { onRefused: opts.onRefused } : {}),
    });
    this.#batcher = new WriteBatcher({
      write: (lines, before) => this.#writer.write(lines, before),
      batchSize: opts.batchSize,
      flushMs: opts.flushMs,
      ...(opts.inFlight !== undefined ? { inFlight: opts.inFlight } : {}),
      clock: opts.clock,
    });
    const name = opts.cursor ?? INFLUX_SINK;
    this.#runner = new SinkRunner<EventRecord>({
      store: opts.store,
      name,
      // Records, not events: ts in ms and the data's text, turned into lines (issue 19).
      read: (limit, after) => opts.store.readRecordsAfter(name, limit, after),
      deliver: (events) => this.#deliver(events),
      batch: opts.batchSize,
      // Room for the batcher to gather a full request while the previous one is written.
      window: opts.batchSize * 4,
      retry: opts.retry,
      clock: opts.clock,
      log,
    });
  }

  start(): Promise<void> {
    return this.#runner.start();
  }

  async stop(): Promise<void> {
    this.#batcher.flushNow();
    await this.#runner.stop();
    this.#batcher.close();
  }

  /** Every event up to this seq is in InfluxDB (or set aside). */
  get delivered(): number {
    return this.#runner.delivered;
  }

  report(): InfluxSinkReport {
    return {
      runner: this.#runner.status(),
      written: this.#writer.written,
      set_aside: this.#writer.refused,
      recent_set_aside: this.#writer.setAside(),
      last_error: this.#lastError,
    };
  }

  #deliver(records: readonly EventRecord[]): Promise<void> {
    const lines: string[] = [];
    for (const r of records) {
      try {
        eventLines(r, lines);
      } catch (err) {
        // Data the store checked only by its first byte: a damaged row is skipped, as the
        // store skips the rows it finds damaged, rather than failing every delivery again.
        this.#log.error({ seq: r.seq, err: errorMessage(err) }, 'skipping a damaged event');
      }
    }
    return this.#batcher.add(lines);
  }

  async #write(body: Buffer, options: IWriteOptions): Promise<void> {
    try {
      await this.#o.write(body, options);
      this.#lastError = null;
    } catch (err) {
      this.#lastError = `${httpStatus(err) ?? 'no answer'}: ${influxReason(err)}`;
      if (httpStatus(err) === 404 && /database not found/.test(errorMessage(err))) {
        await this.#createDatabase();
      }
      throw err;
    }
  }

  /** Once per run: a 1.x server creates it; without the right (auth), the error says so. */
  async #createDatabase(): Promise<void> {
    if (this.#createTried || !this.#o.createDatabase) return;
    this.#createTried = true;
    await this.#o.createDatabase().then(
      () => this.#o.log.info({ database: this.#o.options.database }, 'InfluxDB database created'),
      (err: unknown) =>
        this.#o.log.warn(
          { database: this.#o.options.database, err: influxReason(err) },
          'InfluxDB database not found and not created: create it (or its DBRP mapping)',
        ),
    );
  }
}
