export interface FlapOptions {
  /** State changes within `windowMs` that make a target flapping (default 5 in 10 min). */
  changes: number;
  windowMs: number;
  /** The state changed: it is saved, so a restart of the agent keeps what it counted. */
  onChange?: () => void;
}

/** One target's flap state as kept across restarts (`<data_dir>/remediation-state.json`). */
export interface SavedFlaps {
  readonly target: string;
  readonly up: boolean;
  readonly changes: number[];
  readonly flapping: boolean;
  readonly lastChange: number;
}

interface TargetFlaps {
  up: boolean;
  changes: number[];
  flapping: boolean;
  lastChange: number;
}

export type FlapChange = 'started' | 'settled' | undefined;

/**
 * Flap detection per target, times passed in. A target that changes between up and down
 * `changes` times within the window is flapping (reported once); it settles when it has
 * kept one state for a whole window.
 */
export class FlapDetector {
  readonly #opts: FlapOptions;
  readonly #targets = new Map<string, TargetFlaps>();

  constructor(opts: FlapOptions) {
    this.#opts = opts;
  }

  /**
   * Records the target's state at `at`. `count: false` (a grace period) updates the state
   * without counting the change; `first`: the target's first report, a baseline. Returns
   * `started` the moment it becomes flapping.
   *
   * Only targets that are down or have changed are held (a site has thousands of
   * containers, nearly all of them up and quiet): one not held is up, or never seen.
   */
  record(target: string, up: boolean, at: number, count = true, first = false): FlapChange {
    let t = this.#targets.get(target);
    if (!t) {
      if (up) return undefined;
      t = { up, changes: [], flapping: false, lastChange: at };
      this.#targets.set(target, t);
      this.#opts.onChange?.();
      return first || !count ? undefined : this.#count(t, at);
    }
    const settled = this.#settle(t, at);
    if (t.up !== up) {
      t.up = up;
      this.#opts.onChange?.();
      const started = count ? this.#count(t, at) : undefined;
      if (started) return started;
    }
    this.#release(target, t, at);
    return settled;
  }

  /** Targets flapping now (after a restart: their settling is watched again). */
  flappingTargets(): string[] {
    return [...this.#targets].filter(([, t]) => t.flapping).map(([target]) => target);
  }

  /** Every target held, to be saved. */
  snapshot(): SavedFlaps[] {
    return [...this.#targets].map(([target, t]) => ({ target, ...t, changes: [...t.changes] }));
  }

  /** Takes back the state saved by an earlier run. */
  restore(saved: readonly SavedFlaps[]): void {
    for (const f of saved) {
      this.#targets.set(f.target, {
        up: f.up,
        changes: [...f.changes],
        flapping: f.flapping,
        lastChange: f.lastChange,
      });
    }
  }

  /** How many targets are held (down, or changed within the window). */
  get held(): number {
    return this.#targets.size;
  }

  isFlapping(target: string, now: number): boolean {
    const t = this.#targets.get(target);
    if (!t) return false;
    this.#settle(t, now);
    return t.flapping;
  }

  /** When a flapping target settles if nothing changes meanwhile. */
  settlesAt(target: string): number | undefined {
    const t = this.#targets.get(target);
    return t?.flapping ? t.lastChange + this.#opts.windowMs : undefined;
  }

  /** Checks whether the target settled by `now`; `settled` once when it did. */
  check(target: string, now: number): FlapChange {
    const t = this.#targets.get(target);
    return t ? this.#settle(t, now) : undefined;
  }

  /** An operator's reset (`ack`), or the target is gone. */
  clear(target: string): void {
    if (this.#targets.delete(target)) this.#opts.onChange?.();
  }

  #count(t: TargetFlaps, at: number): 'started' | undefined {
    t.lastChange = at;
    t.changes = [...t.changes.filter((c) => c > at - this.#opts.windowMs), at];
    if (!t.flapping && t.changes.length >= this.#opts.changes) {
      t.flapping = true;
      return 'started';
    }
    return undefined;
  }

  /** Lets go of a target that is up with no change in the window: nothing to remember. */
  #release(target: string, t: TargetFlaps, now: number): void {
    if (t.up && !t.flapping && t.changes.every((c) => c <= now - this.#opts.windowMs)) {
      this.#targets.delete(target);
      this.#opts.onChange?.();
    }
  }

  #settle(t: TargetFlaps, now: number): FlapChange {
    if (!t.flapping || now - t.lastChange < this.#opts.windowMs) return undefined;
    t.flapping = false;
    t.changes = [];
    this.#opts.onChange?.();
    return 'settled';
  }
}
