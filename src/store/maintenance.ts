import type { Clock, TimerHandle } from '../core/clock.js';
import { dropExpired, pruneAcked, type CommitResult, type WriteContext } from './sqlite-writes.js';

/** Rows per maintenance transaction, so a big backlog never stalls the event loop for long. */
export const MAINTENANCE_CHUNK = 5_000;

export interface MaintenanceInput {
  now: number;
  retention: number;
  maxAge: number;
  /** The lowest cursor of the sinks registered in this run; undefined when there are none. */
  ackedUpTo: number | undefined;
  /** Checked between chunks: the store is closing. */
  stopped(): boolean;
  /** Called after each commit that recorded a drop. */
  committed(result: CommitResult): void;
}

export interface MaintenanceResult {
  pruned: number;
  expired: number;
}

/**
 * Retention, then the age bound. Retention is silent (every registered sink has those
 * events); the age bound drops whatever is older than maxAge, acked or not, and records it.
 * With no sink registered nothing counts as acknowledged, so retention waits.
 */
export async function maintain(ctx: WriteContext, o: MaintenanceInput): Promise<MaintenanceResult> {
  let pruned = 0;
  let expired = 0;
  if (o.ackedUpTo !== undefined) {
    for (let n = MAINTENANCE_CHUNK; n === MAINTENANCE_CHUNK && !o.stopped(); await nextTurn()) {
      n = pruneAcked(ctx, o.ackedUpTo, o.now - o.retention, MAINTENANCE_CHUNK);
      pruned += n;
    }
  }
  for (let n = MAINTENANCE_CHUNK; n === MAINTENANCE_CHUNK && !o.stopped(); await nextTurn()) {
    const result = dropExpired(ctx, o.now - o.maxAge, MAINTENANCE_CHUNK);
    n = result.dropped?.count ?? 0;
    expired += n;
    o.committed(result);
  }
  return { pruned, expired };
}

/** Lets queued appends commit between two maintenance chunks. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs maintenance every `every` ms on the injected clock, one run at a time (a run asked
 * for while another is going waits for it), and waits for the current run on stop.
 */
export class MaintenanceSchedule {
  readonly #clock: Clock;
  readonly #every: number;
  readonly #once: () => Promise<MaintenanceResult>;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(clock: Clock, every: number, once: () => Promise<MaintenanceResult>) {
    this.#clock = clock;
    this.#every = every;
    this.#once = once;
  }

  start(): void {
    this.#timer = this.#clock.setTimeout(() => {
      void this.run().finally(() => {
        if (!this.#stopped) this.start();
      });
    }, this.#every);
  }

  run(): Promise<MaintenanceResult> {
    const run = this.#chain.then(this.#once);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    await this.#chain;
  }
}
