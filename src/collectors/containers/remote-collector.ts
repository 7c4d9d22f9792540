import type { Clock, TimerHandle } from '../../core/clock.js';
import { OutpostError, errorMessage } from '../../core/errors.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import type { RemoteEngine } from '../../hosts/remote-engine.js';
import type { CommandRunner, SshStatus } from '../../hosts/ssh-connection.js';
import type { SshSession } from '../../hosts/ssh-pool.js';
import { dedupeByKey, observe } from './normalize.js';
import { ObservationCache, type ParseStats } from './observation-cache.js';
import type { ContainerSelector } from './selection.js';
import type { PollSlots } from './poll-slots.js';
import { emitSafely, HostStatusReporter, reachOf } from './status.js';
import type { ContainerSink } from './types.js';

export interface RemoteCollectorOptions {
  host: string;
  /** The host's persistent connection (or its lease of it); the collector starts and stops it. */
  ssh: SshSession;
  engine: RemoteEngine;
  selector: ContainerSelector;
  clock: Clock;
  log: Logger;
  sink: ContainerSink;
  /** `containers.poll_every`. */
  pollEveryMs: number;
  /** For the ±10 % spread of poll times (default Math.random). */
  random?: () => number;
  /** Shared by the hosts' collectors: how many polls may run at once (default: no limit). */
  slots?: PollSlots;
}

/**
 * Polls one host over SSH: a snapshot every `pollEveryMs`, and one right after every
 * (re)connect. A poll that fails marks the host and keeps the last known containers; the
 * next poll is scheduled regardless, so one bad answer never stops the watching.
 */
export class RemoteContainerCollector implements Component {
  readonly name: string;
  readonly #opts: RemoteCollectorOptions;
  readonly #status: HostStatusReporter;
  #timer: TimerHandle | undefined;
  #polling: Promise<void> | undefined;
  #stopped = true;
  readonly #cache = new ObservationCache();

  constructor(opts: RemoteCollectorOptions) {
    this.#opts = opts;
    this.name = `containers:${opts.host}`;
    this.#status = new HostStatusReporter(opts.host, opts.clock, opts.log, opts.sink);
  }
  get host(): string {
    return this.#opts.host;
  }

  /** How many records were parsed, and how many reused unchanged from the last poll. */
  get parseStats(): ParseStats {
    return this.#cache.stats;
  }

  /** The host's SSH connection, for others that run commands on the host. */
  get runner(): CommandRunner {
    return this.#opts.ssh;
  }

  /** Resolves after the first connection attempt and, if it connected, the first poll. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#opts.ssh.start();
    await this.#polling;
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#opts.ssh.stop();
    await this.#polling?.catch(() => undefined);
  }

  /** The SshConnection's onStatus; wire it when constructing the connection. */
  onSshStatus(s: SshStatus): void {
    if (this.#stopped) return;
    if (s.connected) void this.poll();
    else this.#status.report(reachOf(s.error), s.error.message);
  }

  /** One poll now; a poll already running is not doubled. */
  poll(): Promise<void> {
    if (this.#polling) return this.#polling;
    this.#polling = this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    const release = await (this.#opts.slots?.acquire() ?? noSlot);
    try {
      await this.#listAndEmit();
    } finally {
      release();
    }
  }

  async #listAndEmit(): Promise<void> {
    const { engine, host, selector, clock, log } = this.#opts;
    if (this.#stopped) return;
    // Each record becomes an observation as it arrives and is dropped: only these are kept.
    // A record unchanged since the last listing is not even parsed (ObservationCache).
    const cache = this.#cache;
    cache.begin();
    let listing;
    try {
      listing = await engine.listEach(
        (r, hash) => cache.add(hash, observe(host, r, selector, clock.now())),
        (hash) => cache.reuse(hash),
      );
    } catch (err) {
      const e = err instanceof OutpostError ? err : new OutpostError('INTERNAL', errorMessage(err));
      cache.abort();
      log.debug({ host, err: e.message }, 'container poll failed');
      if (!this.#stopped) this.#status.report(reachOf(e), e.message);
      return;
    }
    if (this.#stopped) return cache.abort();
    const now = clock.now();
    const containers = cache.commit(dedupeByKey);
    emitSafely(this.#opts, { kind: 'snapshot', host, containers, at: now });
    this.#status.report('ok', undefined, listing.engine);
  }

  /**
   * Each interval is spread ±10 %: hosts started together would otherwise poll in the
   * same instant forever, and 50 inspect outputs parsed at once cost 50 times the memory.
   */
  #arm(): void {
    if (this.#stopped) return;
    const spread = 0.9 + 0.2 * (this.#opts.random ?? Math.random)();
    this.#timer = this.#opts.clock.setTimeout(
      () => {
        void this.poll().finally(() => this.#arm());
      },
      Math.round(this.#opts.pollEveryMs * spread),
    );
  }
}

const noSlot = Promise.resolve(() => undefined);
