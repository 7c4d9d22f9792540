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
  /** CPU time this process has used so far, in ms (tests pass their own). */
  cpuMs?: () => number;
}

/**
 * With 5,000 containers (BENCHMARKS.md, container-agent-ssh-5000) a tick of 1 s held the
 * steady RSS at 83.6 / 85.8 and 82.4 / 83.9 MiB (median / max, two runs), 2 s at 85.7 /
 * 88.1, for 2-3 % more of a core.
 */
export const HEAP_TRIM_EVERY_MS = 1_000;
/** Less CPU than this since the last tick: the agent is idle and has allocated next to nothing. */
export const HEAP_TRIM_IDLE_CPU_MS = 20;

/**
 * A full garbage collection every second, when the launcher exposes `gc`. V8 lets the
 * old generation grow well past what is live before it collects, and gives pages (and the
 * malloc'd memory of dead Buffers) back only then: with thousands of containers polled that
 * headroom is several MiB of RSS (BENCHMARKS.md, container-agent-ssh-5000). Each
 * collection costs a few ms on the event loop; an idle agent (next to no CPU used since the
 * last tick, so next to nothing allocated) is left alone. Without `gc` it does nothing.
 */
export class HeapTrim implements Component {
  readonly name = 'heap-trim';
  readonly #opts: HeapTrimOptions;
  #timer: TimerHandle | undefined;
  #running = false;
  #collections = 0;
  #cpuAtLastTick = 0;
  readonly #cpu: () => number;

  constructor(opts: HeapTrimOptions) {
    this.#opts = opts;
    this.#cpu = opts.cpuMs ?? processCpuMs;
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
    this.#cpuAtLastTick = this.#cpu();
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
  }

  /** A collection unless the agent has been idle since the last tick. */
  async #tick(): Promise<void> {
    const cpu = this.#cpu();
    const busy = cpu - this.#cpuAtLastTick >= HEAP_TRIM_IDLE_CPU_MS;
    this.#cpuAtLastTick = cpu;
    if (busy) await this.collect();
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#tick().finally(() => this.#arm());
    }, this.#opts.everyMs ?? HEAP_TRIM_EVERY_MS);
  }
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The collector `--expose-gc` installs, if the process was started with it. */
export function exposedGc(): GcFunction | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as GcFunction) : undefined;
}
