import type { IWriteOptions } from 'influx';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { BodyWriter } from './body.js';
import { parseLine } from './line-protocol.js';

/**
 * What the writer needs of an InfluxDB client: one `POST /write` of a body of line
 * protocol, through the `influx` package's request pool (client.ts, `lineWriter`).
 */
export type WriteBody = (body: Buffer, options: IWriteOptions) => Promise<void>;

/** A point InfluxDB refused, kept for the health API (newest last). */
export interface SetAside {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly timestamp: string;
  readonly reason: string;
}

export interface PointWriterOptions {
  write: WriteBody;
  options: IWriteOptions;
  /** Points per request, at most. */
  batchSize: number;
  log: Logger;
  /** Refused points remembered (for the health API and for logging each once), at most. */
  keep?: number;
  /** Told of each newly refused point, with the count so far. */
  onRefused?: (p: SetAside, total: number) => void;
}

/**
 * Writes points in requests of `batchSize`, one request at a time (issue 19). A request
 * InfluxDB rejects as bad (HTTP 400, or 413 for one too large) is split in halves until
 * the points it refuses are alone: those are logged once and set aside, the rest land. In
 * 1.x a partial write already stored the good points of the request; writing them again
 * overwrites the same series and timestamps, so the split costs requests, never
 * duplicates. Any other failure (down, 5xx, timeout, auth) is thrown for the sink to
 * retry the whole delivery later.
 */
export class PointWriter {
  readonly #o: PointWriterOptions;
  readonly #keep: number;
  readonly #setAside: SetAside[] = [];
  /** Keys of refused points already logged: a retried delivery logs none twice. */
  readonly #logged = new Set<string>();
  readonly #body = new BodyWriter();
  #written = 0;
  #refused = 0;

  constructor(opts: PointWriterOptions) {
    this.#o = opts;
    this.#keep = opts.keep ?? 100;
  }

  /** Points written (a point written again after a retry counts again). */
  get written(): number {
    return this.#written;
  }

  /** Points refused and set aside since start. */
  get refused(): number {
    return this.#refused;
  }

  /** The newest refused points. */
  setAside(): readonly SetAside[] {
    return this.#setAside;
  }

  /**
   * Writes lines of line protocol, one point each, in requests of `batchSize`. A request
   * refused as bad is taken apart only once `before` settled (the write before it, when
   * several are in flight), so refused points are told in order.
   */
  async write(lines: readonly string[], before?: Promise<unknown>): Promise<void> {
    const size = this.#o.batchSize;
    for (let i = 0; i < lines.length; i += size) {
      await this.#writeOrSplit(lines.length <= size ? lines : lines.slice(i, i + size), before);
    }
  }

  async #writeOrSplit(lines: readonly string[], before?: Promise<unknown>): Promise<void> {
    try {
      await this.#o.write(this.#body.body(lines), this.#o.options);
      this.#written += lines.length;
      return;
    } catch (err) {
      if (!isBadRequest(err)) throw err;
      await before;
      if (lines.length === 1) return this.#refuse(lines[0]!, err);
    }
    const half = Math.ceil(lines.length / 2);
    await this.#writeOrSplit(lines.slice(0, half));
    await this.#writeOrSplit(lines.slice(half));
  }

  #refuse(text: string, err: unknown): void {
    const head = parseLine(text);
    const entry: SetAside = {
      measurement: head.measurement,
      tags: head.tags,
      timestamp: head.timestamp,
      reason: influxReason(err),
    };
    const key = `${entry.measurement}\u0000${JSON.stringify(entry.tags)}\u0000${entry.timestamp}`;
    if (this.#logged.has(key)) return;
    if (this.#logged.size >= this.#keep * 10) this.#logged.clear();
    this.#logged.add(key);
    this.#refused++;
    this.#setAside.push(entry);
    if (this.#setAside.length > this.#keep) this.#setAside.shift();
    this.#o.log.warn(
      {
        measurement: entry.measurement,
        tags: entry.tags,
        line: text,
        timestamp: entry.timestamp,
        reason: entry.reason,
      },
      'InfluxDB refused a point: set aside, the others go on',
    );
    this.#o.onRefused?.(entry, this.#refused);
  }
}

interface HttpError {
  res?: { statusCode?: number };
  message?: string;
}

/** A rejection of the points themselves (a type conflict, a bad line), not of the request. */
export function isBadRequest(err: unknown): boolean {
  const status = (err as HttpError | undefined)?.res?.statusCode;
  return status === 400 || status === 413;
}

/** The HTTP status of a rejected request, when it got one. */
export function httpStatus(err: unknown): number | undefined {
  return (err as HttpError | undefined)?.res?.statusCode;
}

/** InfluxDB's own words (`{"error": "..."}` in the body), else the error's message. */
export function influxReason(err: unknown): string {
  const msg = errorMessage(err);
  const m = /"error":"((?:[^"\\]|\\.)*)"/.exec(msg);
  return m ? m[1]!.replace(/\\"/g, '"') : msg;
}
