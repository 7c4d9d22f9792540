import type { TimerHandle } from '../../core/clock.js';

/** Which bucket refused: the client's own (one connection), or its login's (all of them). */
export type LimitLevel = 'client' | 'user';

/** Who sent a command, as the channel tells it: never read from the payload. */
export interface CommandSender {
  /** The embedded broker's login (`anonymous` without one); `unverified` elsewhere. */
  readonly user: string;
  /** The connection's MQTT client id; absent where the agent cannot see it. */
  readonly clientId?: string;
}

/**
 * A line about a run of refused commands from one client (its "burst"): `start` at the first
 * refusal, `continuing` once a minute while refusals go on, `end` once the client has been
 * quiet for `quiet`. `count` is what was refused since the previous line of this burst,
 * `total` since its start; a start line counts its own refusal.
 */
export interface BurstReport {
  readonly phase: 'start' | 'continuing' | 'end';
  readonly level: LimitLevel;
  readonly user: string;
  /** The client id of the burst's first refused command (null where none is known). */
  readonly clientId: string | null;
  /** The action of the burst's first refused command (from its topic; the payload is unread). */
  readonly action: string;
  readonly count: number;
  readonly total: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** A run of refusals being counted; the limiter reports it (see BurstReport). */
export class Burst {
  readonly level: LimitLevel;
  readonly user: string;
  readonly clientId: string | null;
  readonly action: string;
  readonly firstAt: number;
  lastAt: number;
  /** When the last line about it was reported. */
  reportedAt: number;
  total = 0;
  /** Refused since the last line. */
  count = 0;
  timer: TimerHandle | undefined;

  constructor(level: LimitLevel, sender: CommandSender, action: string, now: number) {
    this.level = level;
    this.user = sender.user;
    this.clientId = sender.clientId ?? null;
    this.action = action;
    this.firstAt = now;
    this.lastAt = now;
    this.reportedAt = now;
  }

  refused(now: number): void {
    this.total++;
    this.count++;
    this.lastAt = now;
  }

  /** The line for `phase`; the count starts again after it. */
  report(phase: BurstReport['phase'], now: number): BurstReport {
    const r: BurstReport = {
      phase,
      level: this.level,
      user: this.user,
      clientId: this.clientId,
      action: this.action,
      count: this.count,
      total: this.total,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
    };
    this.count = 0;
    this.reportedAt = now;
    return r;
  }
}
