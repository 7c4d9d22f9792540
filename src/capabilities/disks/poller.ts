import type { Clock, TimerHandle } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import type { SshSession } from '../../hosts/ssh-pool.js';
import type { DiskReading } from './types.js';

export interface DiskPollerOptions<R> {
  readonly host: string;
  readonly reader: { read(): Promise<R> };
  /** The reading of a poll whose reader threw. */
  readonly failed: (error: string) => R;
  /** `disks` (usage) or `smart`: the component's name is `<what>:<host>`. */
  readonly what?: string;
  /** An SSH host's lease of its connection: started and stopped with the poller. */
  readonly ssh?: SshSession;
  readonly pollEveryMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  onReading(host: string, reading: R, at: number): void;
}

/**
 * Reads one host's disks every `poll_every`, and once more as soon as its SSH connection
 * is (re)established. A poll already running is never doubled, and one that fails is
 * reported and the next one scheduled all the same.
 */
export class DiskPoller<R = DiskReading> implements Component {
  readonly name: string;
  readonly #o: DiskPollerOptions<R>;
  #timer: TimerHandle | undefined;
  #polling: Promise<void> | undefined;
  #stopped = true;

  constructor(opts: DiskPollerOptions<R>) {
    this.#o = opts;
    this.name = `${opts.what ?? 'disks'}:${opts.host}`;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    // Resolves after the first attempt: a host that is down does not hold the others.
    await this.#o.ssh?.start();
    await this.poll();
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#o.ssh?.stop();
    await this.#polling;
  }

  /** The SSH connection is up: read now rather than at the next tick. */
  connected(): void {
    if (!this.#stopped) void this.poll();
  }

  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    if (this.#stopped) return;
    const { host, reader, clock, log } = this.#o;
    let reading: R;
    try {
      reading = await reader.read();
    } catch (err) {
      reading = this.#o.failed(errorMessage(err));
    }
    if (this.#stopped) return;
    try {
      this.#o.onReading(host, reading, clock.now());
    } catch (err) {
      log.error({ host, err: errorMessage(err), what: this.name }, 'disk reading not applied');
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.poll().finally(() => this.#arm());
    }, this.#o.pollEveryMs);
  }
}
