/**
 * Alert hysteresis for one watched thing (a container), pure and Clock-free: callers
 * pass `now`, so tests move time instead of sleeping (STYLE.md §7).
 *
 * - `down` is alerted only after it has lasted `downAfterMs` (a restart or a redeploy is
 *   not an outage); a short dip that recovers in time produces nothing.
 * - recovery is alerted at once.
 * - `unhealthy` is alerted at once: the engine's healthcheck already needs several failed
 *   probes in a row before it says so.
 * - after an alert, the same thing alerts again (after recovering) only once `cooldownMs`
 *   has passed since that alert; a flapping container pages once per cooldown, and an
 *   alert held back by the cooldown is raised when it ends if the problem is still there.
 * - getting worse (unhealthy → down) or better (down → running but unhealthy) while an
 *   alert is open is a transition of that alert, not a new one, so no cooldown applies.
 */

/** What the latest observation says. */
export type Condition = 'ok' | 'down' | 'unhealthy';

export interface HysteresisOptions {
  readonly downAfterMs: number;
  readonly cooldownMs: number;
}

/** The alert state of one thing. Immutable: every step returns a new one. */
export interface AlertTrack {
  /** The latest observed condition and since when it has held. */
  readonly observed: Condition;
  readonly since: number;
  /** The condition last alerted (`ok` when no alert is open). */
  readonly alerted: Condition;
  /** When the open alert was raised. */
  readonly alertedAt?: number;
  /** When the last alert (down or unhealthy) was raised; drives the cooldown. */
  readonly lastAlertAt?: number;
}

export type TransitionType = 'container_down' | 'container_recovered' | 'container_unhealthy';

export interface Transition {
  readonly type: TransitionType;
  readonly from: Condition;
  readonly to: Condition;
  readonly at: number;
  /** How long the observed condition had lasted when the transition was made. */
  readonly conditionForMs: number;
  /** How long the alert that ends here was open (recoveries and downgrades only). */
  readonly alertOpenMs?: number;
}

export interface Step {
  readonly track: AlertTrack;
  readonly transitions: readonly Transition[];
  /** When `evaluate` must run again (a pending alert becomes due), if ever. */
  readonly deadline?: number;
}

/** A new track; `since` may date a condition back (a container that exited an hour ago). */
export function newTrack(observed: Condition, now: number, since = now): AlertTrack {
  return { observed, since: Math.min(since, now), alerted: 'ok' };
}

/** Records an observation; a changed condition restarts its clock. Then evaluates. */
export function observe(
  track: AlertTrack,
  observed: Condition,
  now: number,
  opts: HysteresisOptions,
  since = now,
): Step {
  const next =
    observed === track.observed ? track : { ...track, observed, since: Math.min(since, now) };
  return evaluate(next, now, opts);
}

/** Raises, clears or holds the alert for the current observation at `now`. */
export function evaluate(track: AlertTrack, now: number, opts: HysteresisOptions): Step {
  const { observed, alerted } = track;
  if (observed === alerted) return { track, transitions: [] };
  if (observed === 'ok') return { track: closed(track), transitions: [recovery(track, now)] };

  const due = dueAt(track, opts);
  if (now < due) return { track, transitions: [], deadline: due };
  const opened: AlertTrack = {
    ...track,
    alerted: observed,
    alertedAt: now,
    lastAlertAt: now,
  };
  const type: TransitionType = observed === 'down' ? 'container_down' : 'container_unhealthy';
  const transition: Transition = {
    type,
    from: alerted,
    to: observed,
    at: now,
    conditionForMs: now - track.since,
    ...(alerted !== 'ok' && track.alertedAt !== undefined
      ? { alertOpenMs: now - track.alertedAt }
      : {}),
  };
  return { track: opened, transitions: [transition] };
}

/** When an alert for the current (non-ok) observation may be raised. */
function dueAt(track: AlertTrack, opts: HysteresisOptions): number {
  const settle = track.observed === 'down' ? track.since + opts.downAfterMs : track.since;
  // The cooldown holds back a new alert, never a change of an open one.
  if (track.alerted !== 'ok' || track.lastAlertAt === undefined) return settle;
  return Math.max(settle, track.lastAlertAt + opts.cooldownMs);
}

function closed(track: AlertTrack): AlertTrack {
  const { alertedAt: _open, ...rest } = track;
  return { ...rest, alerted: 'ok' };
}

function recovery(track: AlertTrack, now: number): Transition {
  return {
    type: 'container_recovered',
    from: track.alerted,
    to: 'ok',
    at: now,
    conditionForMs: now - track.since,
    ...(track.alertedAt !== undefined ? { alertOpenMs: now - track.alertedAt } : {}),
  };
}

/**
 * Tracks keyed by subject, with forget-on-disappear: what is no longer observed leaves
 * the table with its pending alerts and cooldowns (DESIGN.md "No phantom entities").
 */
export class HysteresisTable<K> {
  readonly #opts: HysteresisOptions;
  readonly #tracks = new Map<K, AlertTrack>();
  readonly #deadlines = new Map<K, number>();
  /** Open alerts of subjects that went away, kept until `until` in case they come back. */
  readonly #parked = new Map<K, { track: AlertTrack; until: number }>();

  constructor(opts: HysteresisOptions) {
    this.#opts = opts;
  }

  /** Records an observation of `key`; returns the transitions it causes. */
  observe(key: K, observed: Condition, now: number, since = now): readonly Transition[] {
    const track = this.#tracks.get(key) ?? this.#unpark(key, now);
    const step = track
      ? observe(track, observed, now, this.#opts, since)
      : evaluate(newTrack(observed, now, since), now, this.#opts);
    return this.#store(key, step);
  }

  /** Evaluates every track whose deadline has come; returns the transitions, by key. */
  tick(now: number): [K, Transition][] {
    const out: [K, Transition][] = [];
    for (const [key, deadline] of [...this.#deadlines]) {
      if (deadline > now) continue;
      const track = this.#tracks.get(key)!;
      for (const t of this.#store(key, evaluate(track, now, this.#opts))) out.push([key, t]);
    }
    return out;
  }

  /**
   * Drops a subject's track. With `parkUntil`, an alert it had open is kept aside until
   * then: compose re-creates a container as remove + create under the same key, and the
   * replacement running again is that alert's recovery, not a new subject. A pending
   * (not yet alerted) condition is never kept: nothing was announced.
   */
  forget(key: K, parkUntil?: number): void {
    const track = this.#tracks.get(key);
    this.#tracks.delete(key);
    this.#deadlines.delete(key);
    if (parkUntil !== undefined && track && track.alerted !== 'ok') {
      this.#parked.set(key, { track, until: parkUntil });
    } else {
      this.#parked.delete(key);
    }
  }

  get(key: K): AlertTrack | undefined {
    return this.#tracks.get(key);
  }

  keys(): K[] {
    return [...this.#tracks.keys()];
  }

  /** The earliest pending deadline, for the one timer the owner keeps. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const d of this.#deadlines.values()) if (min === undefined || d < min) min = d;
    return min;
  }

  get size(): number {
    return this.#tracks.size;
  }

  #unpark(key: K, now: number): AlertTrack | undefined {
    for (const [k, p] of this.#parked) if (p.until <= now) this.#parked.delete(k);
    const parked = this.#parked.get(key);
    this.#parked.delete(key);
    return parked?.track;
  }

  #store(key: K, step: Step): readonly Transition[] {
    this.#tracks.set(key, step.track);
    if (step.deadline === undefined) this.#deadlines.delete(key);
    else this.#deadlines.set(key, step.deadline);
    return step.transitions;
  }
}
