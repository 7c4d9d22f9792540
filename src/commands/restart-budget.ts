import { Backoff } from '../core/backoff.js';
import type { BudgetStatus } from './policy/types.js';

export interface RestartBudgetOptions {
  /** Restarts without a human per target within `windowMs` (default 3 in 30 min). */
  max: number;
  windowMs: number;
  /** Healthy this long gives the target its budget and backoff back (default 10 min). */
  resetAfterMs: number;
  /** Wait between attempts: doubling from `initialMs` to `maxMs` (10 s … 5 min). */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** After each restart, failures are not counted for this long. */
  graceMs: number;
  /** For jitter; injectable so tests get fixed delays. */
  random?: () => number;
  /** A budget changed: it is saved, so a restart of the agent forgets no attempt. */
  onChange?: () => void;
}

/** One target's budget as kept across restarts (`<data_dir>/remediation-state.json`). */
export interface SavedBudget {
  readonly target: string;
  readonly attempts: number[];
  /** Backoff steps taken so far: the next wait doubles from there. */
  readonly backoff: number;
  readonly nextAt: number;
  readonly lastRestartAt?: number;
  readonly healthySince?: number;
}

interface TargetBudget {
  attempts: number[];
  readonly backoff: Backoff;
  nextAt: number;
  lastRestartAt?: number;
  healthySince?: number;
}

/**
 * Restart budgets per target, all times passed in (STYLE.md §7). Pure bookkeeping: the
 * policy's budget hook reads `status`, the action runner calls `recordAttempt`, and
 * self-healing reports health so a target that stays up gets its budget back.
 */
export class RestartBudgets {
  readonly #opts: RestartBudgetOptions;
  readonly #targets = new Map<string, TargetBudget>();

  constructor(opts: RestartBudgetOptions) {
    this.#opts = opts;
  }

  status(target: string, now: number): BudgetStatus {
    const t = this.#current(target, now);
    if (!t) return { kind: 'ok', used: 0 };
    const used = t.attempts.length;
    if (used >= this.#opts.max) return { kind: 'over', used };
    if (now < t.nextAt) return { kind: 'backoff', used, retryAt: t.nextAt };
    return { kind: 'ok', used };
  }

  /** A restart is starting now: it counts, and the next one waits a longer backoff. */
  recordAttempt(target: string, now: number): void {
    const t = this.#current(target, now) ?? this.#create(target);
    t.attempts.push(now);
    t.lastRestartAt = now;
    t.nextAt = now + t.backoff.next();
    t.healthySince = undefined;
    this.#opts.onChange?.();
  }

  /** Within the grace period after the latest restart: failures are not counted. */
  inGrace(target: string, now: number): boolean {
    const at = this.#targets.get(target)?.lastRestartAt;
    return at !== undefined && now < at + this.#opts.graceMs;
  }

  /** When the grace period of the latest restart ends, if one is running. */
  graceEnds(target: string, now: number): number | undefined {
    const at = this.#targets.get(target)?.lastRestartAt;
    const end = at === undefined ? undefined : at + this.#opts.graceMs;
    return end !== undefined && end > now ? end : undefined;
  }

  /** The earliest time the next restart may run (backoff), if it is in the future. */
  nextAllowedAt(target: string, now: number): number | undefined {
    const t = this.#current(target, now);
    return t && t.nextAt > now ? t.nextAt : undefined;
  }

  /** The target is up and healthy since `at` (the first report counts). */
  healthy(target: string, at: number): void {
    const t = this.#targets.get(target);
    if (!t || t.healthySince !== undefined) return;
    t.healthySince = at;
    this.#opts.onChange?.();
  }

  unhealthy(target: string): void {
    const t = this.#targets.get(target);
    if (!t || t.healthySince === undefined) return;
    t.healthySince = undefined;
    this.#opts.onChange?.();
  }

  /** An operator's reset (`ack`): budget and backoff start over. */
  reset(target: string): void {
    if (this.#targets.delete(target)) this.#opts.onChange?.();
  }

  /** Every budget held, to be saved. */
  snapshot(): SavedBudget[] {
    return [...this.#targets].map(([target, t]) => ({
      target,
      attempts: [...t.attempts],
      backoff: t.backoff.attempts,
      nextAt: t.nextAt,
      ...(t.lastRestartAt !== undefined ? { lastRestartAt: t.lastRestartAt } : {}),
      ...(t.healthySince !== undefined ? { healthySince: t.healthySince } : {}),
    }));
  }

  /** Takes back the budgets saved by an earlier run (expired ones lapse as usual). */
  restore(saved: readonly SavedBudget[]): void {
    for (const b of saved) {
      const t = this.#create(b.target);
      t.attempts = [...b.attempts];
      // The backoff's own counter: each step taken again, its delay discarded.
      for (let i = 0; i < b.backoff; i++) t.backoff.next();
      t.nextAt = b.nextAt;
      t.lastRestartAt = b.lastRestartAt;
      t.healthySince = b.healthySince;
    }
  }

  /** The target's budget at `now`: expired attempts dropped, reset after a healthy spell. */
  #current(target: string, now: number): TargetBudget | undefined {
    const t = this.#targets.get(target);
    if (!t) return undefined;
    if (t.healthySince !== undefined && now - t.healthySince >= this.#opts.resetAfterMs) {
      this.#targets.delete(target);
      return undefined;
    }
    t.attempts = t.attempts.filter((at) => at > now - this.#opts.windowMs);
    if (t.attempts.length === 0 && now >= t.nextAt && !this.inGrace(target, now)) {
      // A whole window without restarts: the backoff starts over too.
      this.#targets.delete(target);
      return undefined;
    }
    return t;
  }

  #create(target: string): TargetBudget {
    const t: TargetBudget = {
      attempts: [],
      backoff: new Backoff({
        initialMs: this.#opts.backoffInitialMs,
        maxMs: this.#opts.backoffMaxMs,
        // ±20 %: attempts on several targets spread out, yet stay near the documented delays.
        jitter: 0.2,
        ...(this.#opts.random ? { random: this.#opts.random } : {}),
      }),
      nextAt: 0,
    };
    this.#targets.set(target, t);
    return t;
  }
}
