import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { probeDir, storageFailure } from '../core/storage-failure.js';
import type { RetainedStore } from './retained-store.js';

/**
 * aedes-persistence-level's methods that write to LevelDB (sessions, subscriptions,
 * offline queues, wills, inbound QoS 2 state). Retained messages go to the RetainedStore.
 */
const LEVEL_WRITES = [
  'addSubscriptions',
  'removeSubscriptions',
  'cleanSubscriptions',
  'outgoingEnqueue',
  'outgoingEnqueueCombi',
  'outgoingUpdate',
  'outgoingClearMessageId',
  'incomingStorePacket',
  'incomingDelPacket',
  'cleanIncoming',
  'putWill',
  'delWill',
] as const;

/** The LevelDB handle, to reopen it once the disk takes writes again. */
export interface ReopenableDb {
  close(): Promise<void>;
  open(): Promise<void>;
}

export interface PersistenceGuardOptions {
  db: ReopenableDb;
  /** The directory both stores live in: what is probed for space. */
  dir: string;
  retained: RetainedStore;
  clock: Clock;
  log: Logger;
  /** How often the disk is looked at while a store is refused; default 2 s. */
  probeMs?: number;
  /** Free bytes needed before LevelDB is reopened; default 1 MiB (its write buffer). */
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
 * RetainedStore; a LevelDB write the disk refuses resolves as if written, and LevelDB is
 * not written again — sessions, subscriptions and offline queues live in aedes' memory
 * only — until the disk has room, when it is reopened. The reopen matters: after a failed
 * append LevelDB's log ends in a torn record, and records appended behind it are lost when
 * the log is next replayed (tried: every write after the failure was gone after a reopen),
 * so the next writes go to a fresh log instead. Errors that are not the disk's pass through
 * to aedes as before.
 */
export class PersistenceGuard {
  readonly #o: PersistenceGuardOptions;
  /** LevelDB refused a write and has not been reopened since. */
  #levelDown: string | undefined;
  #retainedDown = false;
  #timer: TimerHandle | undefined;
  #reopening = false;
  #stopped = false;

  constructor(opts: PersistenceGuardOptions) {
    this.#o = opts;
  }

  /** True while either store is refused and its state is held in memory. */
  get degraded(): boolean {
    return this.#levelDown !== undefined || this.#retainedDown;
  }

  /** Wraps the persistence's write methods in place and returns it. */
  wrap<P extends object>(persistence: P): P {
    const p = persistence as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of LEVEL_WRITES) {
      const write = p[name]?.bind(p);
      if (!write) continue;
      p[name] = (...args) => this.#levelWrite(name, () => write(...args));
    }
    const storeRetained = p.storeRetained!.bind(p);
    p.storeRetained = async (...args) => {
      await storeRetained(...args);
      if (this.#o.retained.held > 0) this.#retainedRefused();
    };
    return persistence;
  }

  /** Stops probing; one last write of the held retained messages, if the disk lets it. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#retainedDown) this.#flushRetained();
  }

  async #levelWrite(name: string, write: () => Promise<unknown>): Promise<unknown> {
    // Nothing goes behind a torn log record (see the class comment).
    if (this.#levelDown !== undefined || this.#reopening) return undefined;
    try {
      return await write();
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === undefined) throw err;
      this.#levelDown = `${name}: ${errorMessage(err)}`;
      this.#o.log.error(
        { dir: this.#o.dir, failure, err: errorMessage(err) },
        'broker session store cannot write: sessions and offline queues kept in memory until it can',
      );
      this.#arm();
      return undefined;
    }
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
      void this.#probe();
    }, this.#o.probeMs ?? 2_000);
  }

  async #probe(): Promise<void> {
    const space = probeDir(this.#o.dir);
    if (space.writable && space.freeBytes > 0 && this.#retainedDown) this.#flushRetained();
    const room = this.#o.minFreeBytes ?? 1024 * 1024;
    if (space.writable && space.freeBytes >= room && this.#levelDown !== undefined) {
      await this.#reopen();
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

  async #reopen(): Promise<void> {
    this.#reopening = true;
    try {
      await this.#o.db.close();
      await this.#o.db.open();
      this.#o.log.info(
        { dir: this.#o.dir, failed: this.#levelDown },
        'broker session store writable again (reopened on a fresh log)',
      );
      this.#levelDown = undefined;
    } catch (err) {
      // Still refused (filled up again): tried again at the next probe.
      this.#o.log.warn({ err: errorMessage(err) }, 'broker session store not reopened yet');
    } finally {
      this.#reopening = false;
    }
  }
}
