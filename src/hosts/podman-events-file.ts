import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EngineEvent } from './engine-events.js';
import { CONTAINER_ID } from './inspect-schema.js';

/**
 * podman's events file (`events_logger = "file"`), read by the agent itself (issue #15).
 * podman appends each event to it as one JSON line the moment it happens, but its own
 * /events API reads the file back by polling every 250 ms; the agent watches the file's
 * directory with inotify (fs.watch) and reads each appended line at once, so a local
 * podman's event reaches it in about a millisecond. The API stream stays the authority and
 * the backstop: its later copy of each event is dropped by the collector (SeenEvents).
 *
 * Only what was appended since the last read is read, in chunks, and a partial last line
 * waits for its newline. The file at start, and a file rotated under the agent (podman
 * rewrites it to its newer half when it passes `events_logfile_max_size`: a new inode) or
 * truncated, is read from its end: what it held is history, already in the engine's
 * state, not news. A file that appears where there was none is read from its start.
 */

export interface PodmanEventsFileOptions {
  /** Absolute path of the events file (`events_logfile_path` in containers.conf). */
  path: string;
  clock: Clock;
  log: Logger;
  onEvent(event: EngineEvent): void;
  /** How often to look again for a directory that does not exist yet (default 5 s). */
  retryMs?: number;
}

/** A line longer than this without a newline is not an event: it is skipped. */
const MAX_LINE = 1 << 20;
const CHUNK = 64 * 1024;

export class PodmanEventsFile {
  readonly #opts: PodmanEventsFileOptions;
  readonly #name: string;
  #watcher: FSWatcher | undefined;
  #retry: TimerHandle | undefined;
  #stopped = true;
  /** The file read so far: its inode and the offset read up to; undefined while absent. */
  #at: { ino: number; offset: number } | undefined;
  #partial = '';
  #decoder = new StringDecoder('utf8');
  /** Skipping the rest of an overlong line, up to its newline. */
  #skipping = false;
  #reading: Promise<void> | undefined;
  #again = false;
  #waitingLogged = false;

  constructor(opts: PodmanEventsFileOptions) {
    this.#opts = opts;
    this.#name = basename(opts.path);
  }

  /** Resolves once the file's end is known (or its absence) and its directory watched. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#watch(true);
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#retry) this.#opts.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** Waits for reads in progress (tests, stop). */
  async settled(): Promise<void> {
    while (this.#reading) await this.#reading;
  }

  async #watch(first: boolean): Promise<void> {
    const { path, log } = this.#opts;
    // At start the file's history is not news (a file made while nothing watched is): its
    // end is taken before the watch, and what comes between is read just after it.
    if (first) await this.#skipToEnd();
    if (this.#stopped) return;
    try {
      this.#watcher = watch(dirname(path), (_type, file) => {
        if (file === null || file === this.#name) this.#read();
      });
    } catch (err) {
      if (!this.#waitingLogged) {
        log.warn(
          { path, err: errorMessage(err) },
          'podman events file: its directory cannot be watched yet; looking again',
        );
        this.#waitingLogged = true;
      }
      this.#retry = this.#opts.clock.setTimeout(() => void this.#watch(false), this.#retryMs());
      return;
    }
    this.#watcher.on('error', (err) => {
      log.warn({ path, err: errorMessage(err) }, 'podman events file: watch failed; again');
      this.#watcher?.close();
      this.#watcher = undefined;
      if (!this.#stopped) {
        this.#retry = this.#opts.clock.setTimeout(() => void this.#watch(false), this.#retryMs());
      }
    });
    this.#waitingLogged = false;
    log.debug({ path }, 'podman events file watched');
    this.#read();
    await this.settled();
  }

  #retryMs(): number {
    return this.#opts.retryMs ?? 5_000;
  }

  async #skipToEnd(): Promise<void> {
    try {
      const fh = await open(this.#opts.path, 'r');
      try {
        const st = await fh.stat();
        this.#at = { ino: st.ino, offset: st.size };
      } finally {
        await fh.close();
      }
    } catch {
      this.#at = undefined; // not there yet: read from its start when it comes
    }
  }

  /** Reads what was appended; a change while reading reads again after. */
  #read(): void {
    if (this.#stopped) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        await this.#readOnce().catch((err: unknown) => {
          this.#opts.log.warn(
            { path: this.#opts.path, err: errorMessage(err) },
            'podman events file: read failed',
          );
        });
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#reading = undefined));
  }

  async #readOnce(): Promise<void> {
    let fh;
    try {
      fh = await open(this.#opts.path, 'r');
    } catch {
      // Gone (removed, or between podman's rename steps): a new one is read from its start.
      this.#forget();
      return;
    }
    try {
      const st = await fh.stat();
      const at = this.#at;
      if (at && (st.ino !== at.ino || st.size < at.offset)) {
        // Rotated or truncated: what the new file holds is the old one's newer half.
        this.#opts.log.info(
          { path: this.#opts.path, size: st.size },
          'podman events file rotated or truncated; reading on from its end',
        );
        this.#forget();
        this.#at = { ino: st.ino, offset: st.size };
        return;
      }
      this.#at ??= { ino: st.ino, offset: 0 };
      const buf = Buffer.allocUnsafe(CHUNK);
      while (!this.#stopped) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, this.#at.offset);
        if (bytesRead === 0) break;
        this.#at.offset += bytesRead;
        this.#take(this.#decoder.write(buf.subarray(0, bytesRead)));
      }
    } finally {
      await fh.close();
    }
  }

  #forget(): void {
    this.#at = undefined;
    this.#partial = '';
    this.#decoder = new StringDecoder('utf8');
    this.#skipping = false;
  }

  #take(text: string): void {
    let rest = this.#partial + text;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (this.#skipping) this.#skipping = false;
      else if (line.length > MAX_LINE) this.#overlong(line.length);
      else this.#line(line);
    }
    if (!this.#skipping && rest.length > MAX_LINE) {
      this.#overlong(rest.length);
      this.#skipping = true;
    }
    this.#partial = this.#skipping ? '' : rest;
  }

  #overlong(bytes: number): void {
    this.#opts.log.error(
      { path: this.#opts.path, bytes },
      'podman events file: a line longer than 1 MiB is not an event; skipped',
    );
  }

  #line(line: string): void {
    if (line.trim() === '') return;
    const event = parsePodmanEventLine(line, this.#opts.clock.now());
    if (typeof event === 'string') {
      this.#opts.log.error(
        { path: this.#opts.path, line: line.slice(0, 120) },
        `podman events file: skipped a line: ${event}`,
      );
      return;
    }
    if (event) this.#opts.onEvent(event);
  }
}

/**
 * One line of podman's events file (libpod's Event as JSON) → the event the API stream
 * would carry for it (what `parseEvent` makes of podman's Docker-compatible /events line):
 * `died` → `die` with its exit code (`ContainerExitCode`, left out by podman when 0), the
 * `health_status` field as the health result. Undefined for what is not a container's
 * event; a string saying what is wrong with a line that is not an event at all.
 */
export function parsePodmanEventLine(
  line: string,
  receivedAt: number,
): EngineEvent | undefined | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return 'expected a JSON object (one podman event)';
  }
  const e = raw as Record<string, unknown>;
  if (e.Type !== 'container') {
    return typeof e.Type === 'string' ? undefined : `Type ${show(e.Type)}: expected a string`;
  }
  if (typeof e.ID !== 'string' || !CONTAINER_ID.test(e.ID)) {
    return `ID ${show(e.ID)}: expected a container id (64 hex digits)`;
  }
  if (typeof e.Status !== 'string' || e.Status === '') {
    return `Status ${show(e.Status)}: expected an event name such as "start" or "died"`;
  }
  const timeNano = typeof e.Time === 'string' ? nanosOf(e.Time) : undefined;
  if (timeNano === undefined) {
    return `Time ${show(e.Time)}: expected an RFC 3339 time such as "2026-12-07T09:44:53.549985963Z"`;
  }
  const action = e.Status === 'died' ? 'die' : e.Status;
  const event: { -readonly [K in keyof EngineEvent]: EngineEvent[K] } = {
    id: e.ID,
    action,
    timeNano,
    receivedAt,
  };
  if (action === 'die') {
    const code = e.ContainerExitCode ?? 0;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) {
      return `ContainerExitCode ${show(code)}: expected an exit code 0–255`;
    }
    event.exitCode = code;
  } else if (action === 'health_status') {
    const h = e.health_status;
    if (h === 'healthy' || h === 'unhealthy' || h === 'starting') event.health = h;
  }
  return event;
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * An RFC 3339 time with up to 9 fractional digits → ns since the epoch, as the same double
 * that JSON.parse makes of podman's `timeNano` for the same event (so the API stream's copy
 * compares equal): the integer is built as a decimal string first, then converted once.
 */
export function nanosOf(time: string): number | undefined {
  const m = RFC3339.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  return Number(`${ms / 1000}${(m[2] ?? '').padEnd(9, '0')}`);
}

function show(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v).slice(0, 80);
}
