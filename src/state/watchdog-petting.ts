import { alertData, type NewEvent } from '../core/events.js';
import { spokenDuration } from '../core/spoken-duration.js';
import type { WatchdogVerdict } from './watchdog.js';

/**
 * When the hardware watchdog stops being petted (issue #16, point 5). Never during `grace`
 * after start (services come up slowly after a boot), never while every local check is up,
 * and not before local checks have been down for `max_unhealthy` (a two-minute sshd restart
 * is no reason to reboot the box). Uplink checks never count: a lost uplink pauses the
 * uplink, a reboot would not bring it back. Pure: time comes in with each round.
 */
export interface PettingOptions {
  readonly graceMs: number;
  readonly maxUnhealthyMs: number;
  /** When the watchdog started: grace runs from here. */
  readonly startedAt: number;
  /** The node's name, for the announcement. */
  readonly node: string;
}

export interface RoundFacts {
  readonly now: number;
  readonly verdict: WatchdogVerdict;
  /** Since when `healthy` has been false; undefined while healthy. */
  readonly unhealthySince: number | undefined;
  /** In how long the hardware resets once the petting stops; undefined when unknown. */
  readonly resetInMs: number | undefined;
}

export interface PettingDecision {
  readonly pet: boolean;
  /** The announcement to record before this round's pet is left out; only on the round it stops. */
  readonly announce?: NewEvent;
}

export class PettingGate {
  readonly #o: PettingOptions;
  #stopped = false;

  constructor(opts: PettingOptions) {
    this.#o = opts;
  }

  /** Whether petting has stopped (announced) and not resumed since. */
  get stopped(): boolean {
    return this.#stopped;
  }

  decide(round: RoundFacts): PettingDecision {
    const { now, verdict, unhealthySince } = round;
    const inGrace = now - this.#o.startedAt < this.#o.graceMs;
    const tolerated =
      verdict.healthy ||
      unhealthySince === undefined ||
      now - unhealthySince < this.#o.maxUnhealthyMs;
    if (inGrace || tolerated) {
      this.#stopped = false;
      return { pet: true };
    }
    if (this.#stopped) return { pet: false };
    this.#stopped = true;
    return { pet: false, announce: this.#announcement(round, unhealthySince) };
  }

  /** "Watchdog will reset edge in ~45s: local checks down for 3 min: sshd (exit 3)". */
  #announcement(round: RoundFacts, since: number): NewEvent {
    const { now, verdict, resetInMs } = round;
    const down = Object.entries(verdict.checks).filter(([, c]) => c.class === 'local' && c.down);
    const what = down.map(([id, c]) => `${id} (${c.message})`).join(', ');
    const when =
      resetInMs === undefined
        ? 'when its hardware timer runs out'
        : `in ~${Math.max(0, Math.round(resetInMs / 1000))}s`;
    const title = `Watchdog will reset ${this.#o.node}`;
    const message = `${title} ${when}: local checks down for ${spokenDuration(now - since)}: ${what}`;
    return {
      type: 'watchdog_reset_pending',
      severity: 'critical',
      subject: 'watchdog',
      ts: now,
      data: alertData(
        {
          down: down.map(([id]) => id),
          unhealthy_for_s: Math.round((now - since) / 1000),
          ...(resetInMs !== undefined ? { reset_in_s: Math.round(resetInMs / 1000) } : {}),
        },
        { title, message },
      ),
    };
  }
}
