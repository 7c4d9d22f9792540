import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EngineEvent } from './engine-events.js';
import { parsePodmanEventLine, timeOfLine } from './podman-event-line.js';

/**
 * podman's events file (`events_logger = "file"`), read by the agent itself (issue #15).
 * podman appends each event to it as one JSON line the moment it happens, but its own
 * /events API reads the file back by polling every 250 ms; the agent watches the file's
 * directory with inotify (fs.watch) and reads each appended line at once, so a local
 * podman's event reaches it in about a millisecond. The API stream stays the authority and
 * the backstop: its later copy of each event is dropped by the collector (SeenEvents).
 *
 * Only what was appended since the last read is read, in chunks, and a partial last line
 * waits for its newline. The file at start, or truncated, is read on from its end: what it
 * held is history, already in the engine's state, not news. A file rotated under the agent
 * (podman rewrites it to its newer half when it passes `events_logfile_max_size`: a new
 * inode) is read on from after podman's own rotation line, else from its end. A file that
 * appears where there was none is read from its start.
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

/** podman's own line in a rotated file, after the copied half (`"Status":"log-rotation"`). */
const ROTATION = Buffer.from('"Status":"log-rotation"');

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
  /** The engine time (ns) of the newest line read, or of the start: older is not news. */
  #newest: number;

  constructor(opts: PodmanEventsFileOptions) {
    this.#opts = opts;
    this.#name = basename(opts.path);
    this.#newest = opts.clock.now() * 1e6;
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
        // Rotated or truncated: what the new file holds up to here is not news.
        const rotated = st.ino !== at.ino;
        const offset = rotated ? await this.#afterRotation(fh, st.size) : st.size;
        this.#opts.log.info(
          { path: this.#opts.path, size: st.size, offset },
          `podman events file ${rotated ? 'rotated' : 'truncated'}; reading on from ${offset === st.size ? 'its end' : 'after its rotation line'}`,
        );
        this.#forget();
        this.#at = { ino: st.ino, offset };
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

  /**
   * Where the news starts in a file podman has just rotated. podman 4 copies the old file's
   * newer half into a new file, renames it over the old one, then appends a `log-rotation`
   * line and the event whose write made it rotate: the news starts after that line, the
   * last one in the file's last 64 KiB that is newer than every line read before (the
   * copied half can hold an older one). Without it (podman has not appended it yet, or
   * someone else rotated the file) the news starts at the end.
   */
  async #afterRotation(fh: FileHandle, size: number): Promise<number> {
    const from = Math.max(0, size - CHUNK);
    const buf = Buffer.alloc(size - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    const text = buf.subarray(0, bytesRead);
    for (let at = text.lastIndexOf(ROTATION); at >= 0; at = text.lastIndexOf(ROTATION, at - 1)) {
      const start = text.lastIndexOf(0x0a, at) + 1;
      const end = text.indexOf(0x0a, at);
      // Still being written: the file's last line, so the newest rotation; read it whole.
      if (end < 0) return from + start;
      const t = timeOfLine(text.toString('utf8', start, end));
      if (t === undefined) continue;
      if (t > this.#newest) return from + end + 1;
      break; // older than what was read: the copied half, and so is all before it
    }
    return size;
  }

  #line(line: string): void {
    if (line.trim() === '') return;
    const t = timeOfLine(line);
    if (t !== undefined && t > this.#newest) this.#newest = t;
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
