import type { Clock, TimerHandle } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import type { Probe } from './probe.js';
import { AGE_MISSING, ageCommand } from './remote-scripts.js';
import type { BackupTracker } from './tracker.js';

/** A passive job: the path whose newest file is the backup, and where to read it. */
export interface WatchedPath {
  readonly job: string;
  readonly path: string;
  readonly probe: Probe;
}

export interface WatchmanOptions {
  readonly tracker: BackupTracker;
  readonly watched: readonly WatchedPath[];
  readonly everyMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * The dead-man's switch's timer (issue #17, point 4): at start-up — so a job that went
 * late while the agent was off is caught at once — and every `check_every`, it reads the
 * passive jobs' paths, then asks the tracker which jobs are late. It needs nothing but
 * the local clock and disk: no uplink, no broker.
 */
export class Watchman implements Component {
  readonly name = 'backups-watchman';
  readonly #o: WatchmanOptions;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(opts: WatchmanOptions) {
    this.#o = opts;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.check();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** One look now; the next is armed after it. */
  async check(): Promise<void> {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#o.watched.map((w) => this.#read(w)));
    try {
      this.#o.tracker.checkLate();
    } catch (err) {
      this.#o.log.error({ err: errorMessage(err) }, 'backup late check failed');
    }
    if (!this.#stopped) {
      this.#timer = this.#o.clock.setTimeout(() => void this.check(), this.#o.everyMs);
    }
  }

  async #read(w: WatchedPath): Promise<void> {
    const { tracker, timeoutMs } = this.#o;
    let out: string;
    try {
      out = (await w.probe(ageCommand(w.path), timeoutMs)).trim();
    } catch (err) {
      tracker.unreadable(w.job, `cannot read ${w.path}: ${errorMessage(err)}`);
      return;
    }
    if (out === AGE_MISSING) return tracker.unreadable(w.job, `${w.path} does not exist`);
    if (out === '') return tracker.unreadable(w.job, `no file under ${w.path}`);
    if (!/^\d+$/.test(out)) return tracker.unreadable(w.job, `unexpected age of ${w.path}`);
    tracker.observed(w.job, Number(out) * 1000);
  }
}
