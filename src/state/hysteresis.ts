/**
 * Alert hysteresis for one watched thing (a container), pure and Clock-free: callers
 * pass `now`, so tests move time instead of sleeping (STYLE.md §7). One open alert is one
 * incident (src/state/incidents.ts): opened by its first alert, closed by its recovery.
 *
 * - `down` is alerted only after it has lasted `downAfterMs` (a restart or a redeploy is
 *   not an outage); a short dip that recovers in time produces nothing.
 * - `unhealthy` is alerted at once: the engine's healthcheck already needs several failed
 *   probes in a row before it says so.
 * - recovery is alerted once `ok` has lasted `stableAfterMs` (a container that comes back
 *   for a few seconds between crashes has not recovered; the caller may date `ok` back to
 *   the container's start).
 * - while the alert stays open, it is raised again every `cooldownMs`, saying how long it
 *   has lasted (issue #14: the cooldown is per incident, not a gap between down/recovered
 *   pairs); `0` never raises it again.
 * - getting worse (unhealthy → down) or better (down → running but unhealthy) while an
 *   alert is open is a transition of that alert, not a new one.
 */

/** What the latest observation says. */
export type Condition = 'ok' | 'down' | 'unhealthy';

export interface HysteresisOptions {
  readonly downAfterMs: number;
  /** An open alert is raised again this often while it lasts; 0: never. */
  readonly cooldownMs: number;
  /** An open alert closes once `ok` has lasted this long. */
  readonly stableAfterMs: number;
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
  /** When the open alert was last raised (first, escalation or re-alert); drives the cooldown. */
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
  /** How long the alert was open (recoveries, changes and re-alerts of an open one). */
  readonly alertOpenMs?: number;
  /** A re-alert of an alert still open, after `cooldownMs`. */
  readonly repeat?: boolean;
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

/** Raises, clears, repeats or holds the alert for the current observation at `now`. */
export function evaluate(track: AlertTrack, now: number, opts: HysteresisOptions): Step {
  const { observed, alerted } = track;
  if (observed === alerted)
    return alerted === 'ok' ? { track, transitions: [] } : repeat(track, now, opts);
  if (observed === 'ok') {
    const due = track.since + opts.stableAfterMs;
    if (now < due) return { track, transitions: [], deadline: due };
    return { track: closed(track), transitions: [recovery(track, now)] };
  }
  const due = observed === 'down' ? track.since + opts.downAfterMs : track.since;
  if (now < due) return { track, transitions: [], deadline: due };
  const opened: AlertTrack = {
    ...track,
    alerted: observed,
    alertedAt: alerted === 'ok' ? now : (track.alertedAt ?? now),
    lastAlertAt: now,
  };
  const transition: Transition = {
    type: observed === 'down' ? 'container_down' : 'container_unhealthy',
    from: alerted,
    to: observed,
    at: now,
    conditionForMs: now - track.since,
    ...(alerted !== 'ok' && track.alertedAt !== undefined
      ? { alertOpenMs: now - track.alertedAt }
      : {}),
  };
  return { track: opened, transitions: [transition], ...nextRepeat(opened, opts) };
}

/** The open alert again once `cooldownMs` has passed since it was last raised. */
function repeat(track: AlertTrack, now: number, opts: HysteresisOptions): Step {
  const next = nextRepeat(track, opts);
  if (next.deadline === undefined || now < next.deadline)
    return { track, transitions: [], ...next };
  const again: AlertTrack = { ...track, lastAlertAt: now };
  const transition: Transition = {
    type: track.alerted === 'down' ? 'container_down' : 'container_unhealthy',
    from: track.alerted,
    to: track.alerted,
    at: now,
    conditionForMs: now - track.since,
    alertOpenMs: now - (track.alertedAt ?? now),
    repeat: true,
  };
  return { track: again, transitions: [transition], ...nextRepeat(again, opts) };
}

function nextRepeat(track: AlertTrack, opts: HysteresisOptions): { deadline?: number } {
  if (opts.cooldownMs <= 0 || track.lastAlertAt === undefined) return {};
  return { deadline: track.lastAlertAt + opts.cooldownMs };
}

function closed(track: AlertTrack): AlertTrack {
  const { alertedAt: _open, lastAlertAt: _last, ...rest } = track;
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
 * the table with its pending alerts (DESIGN.md "No phantom entities"). An open alert the
 * owner wants to keep (a removed container that may be re-created) it takes out and puts
 * back itself.
 */
export class HysteresisTable<K> {
  readonly #opts: HysteresisOptions;
  readonly #tracks = new Map<K, AlertTrack>();
  readonly #deadlines = new Map<K, number>();

  constructor(opts: HysteresisOptions) {
    this.#opts = opts;
  }

  /** Records an observation of `key`; returns the transitions it causes. */
  observe(key: K, observed: Condition, now: number, since = now): readonly Transition[] {
    const track = this.#tracks.get(key);
    const step = track
      ? observe(track, observed, now, this.#opts, since)
      : evaluate(newTrack(observed, now, since), now, this.#opts);
    return this.#store(key, step);
  }

  /**
   * Puts back a track kept aside (a removed container's open alert) or restored after a
   * restart (an open incident), then records the observation as `observe` does.
   */
  resume(
    key: K,
    track: AlertTrack,
    observed: Condition,
    now: number,
    since = now,
  ): readonly Transition[] {
    return this.#store(key, observe(track, observed, now, this.#opts, since));
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

  /** Drops a subject's track and returns it (with any open alert, for the owner to keep). */
  forget(key: K): AlertTrack | undefined {
    const track = this.#tracks.get(key);
    this.#tracks.delete(key);
    this.#deadlines.delete(key);
    return track;
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

  #store(key: K, step: Step): readonly Transition[] {
    this.#tracks.set(key, step.track);
    if (step.deadline === undefined) this.#deadlines.delete(key);
    else this.#deadlines.set(key, step.deadline);
    return step.transitions;
  }
}
