import { alertData, type AlertText, type NewEvent, type Severity } from '../core/events.js';
import { spokenDuration } from '../core/spoken-duration.js';

/**
 * The watchdog's state engine (pure): consecutive failures per check, when a check counts
 * as down (`fail_after`, so one LTE flap is not an outage), and the two verdicts —
 * `healthy` (every local check up) and `uplink` (every uplink check up) — with an event on
 * each change of either, never on every round.
 */

export type CheckClass = 'local' | 'uplink';

export interface CheckDefinition {
  readonly id: string;
  readonly class: CheckClass;
  /** Consecutive failures before the check counts as down (1 or more). */
  readonly failAfter: number;
}

/** One check's run in a round. */
export interface CheckOutcome {
  readonly id: string;
  readonly ok: boolean;
  readonly message: string;
  readonly latencyMs: number;
}

/** One check as the state topic shows it (snake_case, as on the wire). */
export interface CheckStatus {
  /** The last run succeeded. */
  ok: boolean;
  class: CheckClass;
  message: string;
  latency_ms: number;
  /** Consecutive failures so far. */
  failures: number;
  /** Counts as down: `failures` reached `fail_after`. */
  down: boolean;
}

export interface WatchdogVerdict {
  /** Every local check is up. */
  healthy: boolean;
  /** Every uplink check is up (true when there is none). */
  uplink: boolean;
  checks: Record<string, CheckStatus>;
}

export type WatchdogEventType =
  'watchdog_unhealthy' | 'watchdog_recovered' | 'uplink_lost' | 'uplink_restored';

const SEVERITY: Record<WatchdogEventType, Severity> = {
  // Unhealthy for max_unhealthy stops the petting (watchdog-petting.ts): a reboot is near.
  watchdog_unhealthy: 'critical',
  watchdog_recovered: 'info',
  uplink_lost: 'warning',
  uplink_restored: 'info',
};

/** What an earlier run announced and did not see end: not announced again. */
export interface WatchdogRestored {
  /** Since when `healthy` has been false, if it was when the agent stopped. */
  readonly unhealthySince?: number;
  /** Since when `uplink` has been false, likewise. */
  readonly uplinkLostSince?: number;
}

export class WatchdogTracker {
  readonly #defs: readonly CheckDefinition[];
  readonly #checks = new Map<string, CheckStatus>();
  #healthy: boolean;
  #uplink: boolean;
  #unhealthySince: number | undefined;
  #uplinkLostSince: number | undefined;

  constructor(defs: readonly CheckDefinition[], restored: WatchdogRestored = {}) {
    this.#defs = defs;
    this.#unhealthySince = restored.unhealthySince;
    this.#uplinkLostSince = restored.uplinkLostSince;
    this.#healthy = restored.unhealthySince === undefined;
    this.#uplink = restored.uplinkLostSince === undefined;
  }

  /** Takes a round's outcomes; returns the verdict and the events of what changed. */
  apply(
    outcomes: readonly CheckOutcome[],
    at: number,
  ): { verdict: WatchdogVerdict; events: NewEvent[] } {
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    for (const d of this.#defs) {
      const o = byId.get(d.id);
      if (!o) continue;
      const failures = o.ok ? 0 : (this.#checks.get(d.id)?.failures ?? 0) + 1;
      this.#checks.set(d.id, {
        ok: o.ok,
        class: d.class,
        message: o.message,
        latency_ms: Math.round(o.latencyMs),
        failures,
        down: failures >= d.failAfter,
      });
    }
    const events: NewEvent[] = [];
    const healthy = this.#down('local').length === 0;
    if (healthy !== this.#healthy) {
      this.#healthy = healthy;
      events.push(this.#event('local', healthy, at));
    }
    const uplink = this.#down('uplink').length === 0;
    if (uplink !== this.#uplink) {
      this.#uplink = uplink;
      events.push(this.#event('uplink', uplink, at));
    }
    return { verdict: this.verdict(), events };
  }

  /** Since when `healthy` has been false (restored across a restart); undefined while healthy. */
  get unhealthySince(): number | undefined {
    return this.#unhealthySince;
  }

  verdict(): WatchdogVerdict {
    return {
      healthy: this.#healthy,
      uplink: this.#uplink,
      checks: Object.fromEntries([...this.#checks].map(([id, s]) => [id, { ...s }])),
    };
  }

  #down(cls: CheckClass): string[] {
    return this.#defs
      .filter((d) => d.class === cls && this.#checks.get(d.id)?.down === true)
      .map((d) => d.id);
  }

  #event(cls: CheckClass, up: boolean, at: number): NewEvent {
    const type: WatchdogEventType =
      cls === 'local'
        ? up
          ? 'watchdog_recovered'
          : 'watchdog_unhealthy'
        : up
          ? 'uplink_restored'
          : 'uplink_lost';
    const data: Record<string, unknown> = {};
    const since = cls === 'local' ? this.#unhealthySince : this.#uplinkLostSince;
    if (up) {
      if (since !== undefined) data.down_for_s = Math.round((at - since) / 1000);
    } else {
      const down = this.#down(cls);
      data.down = down;
      data.checks = Object.fromEntries(
        down.map((id) => {
          const s = this.#checks.get(id)!;
          return [id, { message: s.message, failures: s.failures }];
        }),
      );
    }
    if (cls === 'local') this.#unhealthySince = up ? undefined : at;
    else this.#uplinkLostSince = up ? undefined : at;
    return {
      type,
      severity: SEVERITY[type],
      subject: cls === 'local' ? 'watchdog' : 'uplink',
      ts: at,
      data: alertData(data, this.#text(cls, up, at, since)),
    };
  }

  /** The verdict change in words: which checks are down and what they said. */
  #text(cls: CheckClass, up: boolean, at: number, since: number | undefined): AlertText {
    const name = cls === 'local' ? 'The site' : 'The uplink';
    if (up) {
      const after = since === undefined ? '' : ` after ${spokenDuration(at - since)}`;
      return {
        title: cls === 'local' ? 'Site healthy again' : 'Uplink restored',
        message: `${name} is up again${after}: every ${cls} check passes`,
      };
    }
    const down = this.#down(cls)
      .map((id) => `${id} (${this.#checks.get(id)?.message ?? 'failed'})`)
      .join(', ');
    return cls === 'local'
      ? { title: 'Site unhealthy', message: `${name} is unhealthy: checks down: ${down}` }
      : { title: 'Uplink lost', message: `${name} is down: checks down: ${down}` };
  }
}
