import { getHeapStatistics } from 'node:v8';
import type { Clock, TimerHandle } from './clock.js';
import type { Component } from './lifecycle.js';
import type { Logger } from './logger.js';
import { errorMessage } from './errors.js';

/** V8's `gc` as `--expose-gc` installs it (the options form returns a promise when async). */
export type GcFunction = (options: { type: 'major'; execution: 'async' }) => Promise<void> | void;

export interface HeapTrimOptions {
  clock: Clock;
  log: Logger;
  /** V8's collector; `globalThis.gc` when the launcher passed `--expose-gc`, else nothing. */
  gc?: GcFunction | undefined;
  everyMs?: number;
  /** Bytes of heap in use now (tests pass their own). */
  usedBytes?: () => number;
}

export const HEAP_TRIM_EVERY_MS = 2_000;
/** Less growth than this since the last collection: the agent is idle, nothing to give back. */
export const HEAP_TRIM_IDLE_BYTES = 256 * 1024;

/**
 * A full garbage collection every few seconds, when the launcher exposes `gc`. V8 lets the
 * old generation grow well past what is live before it collects, and gives pages (and the
 * malloc'd memory of dead Buffers) back only then: with thousands of containers polled that
 * headroom is several MiB of RSS (BENCHMARKS.md, container-agent-ssh-5000). Each
 * collection costs a few ms on the event loop; an idle agent, whose heap has hardly grown
 * since the last one, is left alone. Without `gc` it does nothing.
 */
export class HeapTrim implements Component {
  readonly name = 'heap-trim';
  readonly #opts: HeapTrimOptions;
  #timer: TimerHandle | undefined;
  #running = false;
  #collections = 0;
  #afterLast = 0;
  readonly #used: () => number;

  constructor(opts: HeapTrimOptions) {
    this.#opts = opts;
    this.#used = opts.usedBytes ?? (() => getHeapStatistics().used_heap_size);
  }

  /** Whether there is a collector to call (the launcher passed `--expose-gc`). */
  get enabled(): boolean {
    return this.#opts.gc !== undefined;
  }

  /** Full collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  start(): Promise<void> {
    if (!this.enabled) {
      this.#opts.log.debug('heap trim off: node runs without --expose-gc');
      return Promise.resolve();
    }
    this.#running = true;
    this.#afterLast = this.#used();
    this.#arm();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** One full collection now; resolves when it is done. */
  async collect(): Promise<void> {
    const gc = this.#opts.gc;
    if (!gc) return;
    try {
      await gc({ type: 'major', execution: 'async' });
      this.#collections++;
    } catch (err) {
      this.#opts.log.warn({ err: errorMessage(err) }, 'full garbage collection failed');
    }
    this.#afterLast = this.#used();
  }

  /** A collection unless the heap has hardly grown since the last one. */
  async #tick(): Promise<void> {
    if (this.#used() - this.#afterLast < HEAP_TRIM_IDLE_BYTES) return;
    await this.collect();
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#tick().finally(() => this.#arm());
    }, this.#opts.everyMs ?? HEAP_TRIM_EVERY_MS);
  }
}

/** The collector `--expose-gc` installs, if the process was started with it. */
export function exposedGc(): GcFunction | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as GcFunction) : undefined;
}
