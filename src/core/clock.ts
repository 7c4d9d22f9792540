/** Time as a dependency, so tests control hysteresis, backoff and schedules instead of sleeping. */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`, however long (systemClock chains Node's timers past their limit). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: unknown;
}

/**
 * The longest delay one Node timer takes (a signed 32-bit number of ms, about 24.8 days).
 * Past it Node fires after 1 ms with a TimeoutOverflowWarning (Node docs, setTimeout), so
 * `approval_timeout: 30d` once expired at once (issue 13, point 6).
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The Node timer a chained timeout is waiting on; replaced at each link of the chain. */
interface Chain {
  timer: NodeJS.Timeout | undefined;
}

/** How a chained timeout arms one link: Node's setTimeout, or a test's wrapper around it. */
export type ArmTimer = (fn: () => void, ms: number) => NodeJS.Timeout;

/**
 * A Node timer honoured at any length: past `maxDelayMs` it waits that long, then re-arms
 * for what is left of a monotonic deadline, until the rest fits in one timer. The handle
 * stays the same across links (callers keep it, some as a map key); timers are unref'd.
 * `maxDelayMs` and `arm` are parameters so a test can watch a chain of milliseconds.
 */
export function chainedTimeout(
  fn: () => void,
  ms: number,
  maxDelayMs = MAX_TIMER_DELAY_MS,
  arm: ArmTimer = setTimeout,
): TimerHandle {
  const chain: Chain = { timer: undefined };
  const wait = (delay: number, then: () => void) => {
    chain.timer = arm(then, delay);
    chain.timer.unref();
  };
  if (!(ms > maxDelayMs)) {
    wait(ms, fn); // the common case, exactly as Node does it (NaN and negatives included)
    return { id: chain };
  }
  const deadline = performance.now() + ms;
  const link = () => {
    const left = deadline - performance.now();
    if (left > maxDelayMs) wait(maxDelayMs, link);
    else wait(Math.max(0, left), fn);
  };
  link();
  return { id: chain };
}

/** Cancels a chainedTimeout at whichever link it is waiting on. */
export function clearChainedTimeout(handle: TimerHandle): void {
  const chain = handle.id as Chain;
  clearTimeout(chain.timer);
  chain.timer = undefined;
}

/** The wall clock and Node's timers, chained past their maximum delay and unref'd. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => chainedTimeout(fn, ms),
  clearTimeout: (handle) => clearChainedTimeout(handle),
};

/** A clock that moves only when told: for unit tests. */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle.id as number);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      }
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = target;
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }
}
