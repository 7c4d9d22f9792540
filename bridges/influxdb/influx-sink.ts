import type { IPoint, IWriteOptions } from 'influx';
import type { Clock } from '../../src/core/clock.js';
import type { StoredEvent } from '../../src/core/events.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import { SinkRunner, type SinkRunnerStatus } from '../../src/sinks/sink-runner.js';
import type { EventStore } from '../../src/store/event-store.js';
import {
  PointWriter,
  httpStatus,
  influxReason,
  type SetAside,
  type WritePoints,
} from './point-writer.js';
import { eventPoints } from './points.js';
import { WriteBatcher } from './write-batcher.js';

/** The sink's cursor in the event store. */
export const INFLUX_SINK = 'influxdb';

export interface InfluxSinkOptions {
  store: EventStore;
  /** Its cursor's name (default `influxdb`). */
  cursor?: string;
  write: WritePoints;
  /** Creates the database (a 1.x server answering 404 "database not found"). */
  createDatabase?(): Promise<void>;
  options: IWriteOptions;
  batchSize: number;
  flushMs: number;
  retry: { initialMs: number; maxMs: number };
  clock: Clock;
  log: Logger;
  /** Told of each point InfluxDB refused (set aside), with the count so far. */
  onRefused?: (p: SetAside, total: number) => void;
  /** Events → points (default eventPoints); the benchmark's baseline shares it. */
  points?: (e: StoredEvent) => IPoint[];
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
  readonly #runner: SinkRunner;
  readonly #points: (e: StoredEvent) => IPoint[];
  #lastError: string | null = null;
  #createTried = false;

  constructor(opts: InfluxSinkOptions) {
    this.#o = opts;
    this.#points = opts.points ?? eventPoints;
    const log = opts.log.child({ component: 'influxdb' });
    this.#writer = new PointWriter({
      write: (points, options) => this.#write(points, options),
      options: opts.options,
      batchSize: opts.batchSize,
      log,
      ...(opts.onRefused ? { onRefused: opts.onRefused } : {}),
    });
    this.#batcher = new WriteBatcher({
      write: (points) => this.#writer.write(points),
      batchSize: opts.batchSize,
      flushMs: opts.flushMs,
      clock: opts.clock,
    });
    this.#runner = new SinkRunner({
      store: opts.store,
      name: opts.cursor ?? INFLUX_SINK,
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

  #deliver(events: readonly StoredEvent[]): Promise<void> {
    const points: IPoint[] = [];
    for (const e of events) for (const p of this.#points(e)) points.push(p);
    return this.#batcher.add(points);
  }

  async #write(points: IPoint[], options: IWriteOptions): Promise<void> {
    try {
      await this.#o.write(points, options);
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
