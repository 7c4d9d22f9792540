import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { probeDir, storageFailure } from '../core/storage-failure.js';
import type { RetainedStore } from './retained-store.js';

export interface PersistenceGuardOptions {
  /** The directory the store lives in: what is probed for space. */
  dir: string;
  retained: RetainedStore;
  clock: Clock;
  log: Logger;
  /** How often the disk is looked at while a store is refused; default 2 s. */
  probeMs?: number;
  /** Free bytes needed before the session tables are written again; default 1 MiB. */
  minFreeBytes?: number;
}

/**
 * Keeps the embedded broker's clients connected when its disk is full or turns read-only
 * (issue 13 point 7). What happened without it, on a 2 MiB data dir: every retained publish
 * of the agent (its availability, its states) failed in the retained store, aedes closed
 * the publishing client for it (lib/handlers/publish.js), the agent reconnected and was
 * closed again at its next retained publish; and a LevelDB write whose promise aedes chains
 * with `.finally()` and no handler (storeWill's delWill, lib/handlers/connect.js) ended the
 * process with an unhandled LEVEL_IO_ERROR.
 *
 * Contained here instead: a retained message the disk refuses is held in memory by the
 * RetainedStore; a session write the disk refuses (SessionStore: subscriptions, offline
 * queues, wills, inbound QoS 2 state) is skipped and the session tables are not written
 * again — sessions live in aedes' memory only, and messages queued for an offline client
 * meanwhile are lost to it — until the disk has room. SQLite rolls a refused write back
 * whole, so nothing needs reopening. Errors that are not the disk's pass through to aedes
 * as before.
 */
export class PersistenceGuard {
  readonly #o: PersistenceGuardOptions;
  /** A session write was refused and the tables have not been written since. */
  #sessionsDown: string | undefined;
  #retainedDown = false;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(opts: PersistenceGuardOptions) {
    this.#o = opts;
    // At the refused commit itself (at the end of an event-loop turn), not at a later
    // publish: the last retained message before a quiet spell is written once there is room.
    opts.retained.onHeld(() => this.#retainedRefused());
  }

  /** True while either store is refused and its state is held in memory. */
  get degraded(): boolean {
    return this.#sessionsDown !== undefined || this.#retainedDown;
  }

  /** Runs one session write (SessionStore's SessionWrite): skipped while the disk refuses. */
  readonly write = <T>(name: string, write: () => T): T | undefined => {
    if (this.#sessionsDown !== undefined) return undefined;
    try {
      return write();
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === undefined) throw err;
      this.#sessionsDown = `${name}: ${errorMessage(err)}`;
      this.#o.log.error(
        { dir: this.#o.dir, failure, err: errorMessage(err) },
        'broker session store cannot write: sessions and offline queues kept in memory until it can',
      );
      this.#arm();
      return undefined;
    }
  };

  /** Stops probing; one last write of the held retained messages, if the disk lets it. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#retainedDown) this.#flushRetained();
  }

  #retainedRefused(): void {
    if (this.#retainedDown) return;
    this.#retainedDown = true;
    this.#o.log.error(
      { dir: this.#o.dir, held: this.#o.retained.held },
      'broker retained store cannot write: retained messages kept in memory until it can',
    );
    this.#arm();
  }

  #arm(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#probe();
    }, this.#o.probeMs ?? 2_000);
  }

  #probe(): void {
    const space = probeDir(this.#o.dir);
    if (space.writable && space.freeBytes > 0 && this.#retainedDown) this.#flushRetained();
    const room = this.#o.minFreeBytes ?? 1024 * 1024;
    if (space.writable && space.freeBytes >= room && this.#sessionsDown !== undefined) {
      this.#o.log.info(
        { dir: this.#o.dir, failed: this.#sessionsDown },
        'broker session store writable again',
      );
      this.#sessionsDown = undefined;
    }
    if (this.degraded) this.#arm();
  }

  #flushRetained(): void {
    try {
      if (!this.#o.retained.flush()) return;
      this.#retainedDown = false;
      this.#o.log.info({ dir: this.#o.dir }, 'broker retained store writable again');
    } catch (err) {
      this.#o.log.error({ err: errorMessage(err) }, 'broker retained store flush failed');
    }
  }
}
