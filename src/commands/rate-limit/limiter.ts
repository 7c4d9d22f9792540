import type { Clock } from '../../core/clock.js';
import { Burst, type BurstReport, type CommandSender, type LimitLevel } from './burst.js';
import { KeyedBuckets, type BucketEntry } from './keyed-buckets.js';
import type { RateLimitSettings } from './settings.js';

/** While a burst goes on, a line with its count at least this often. */
export const REPORT_EVERY_MS = 60_000;

/** Whether a command may go on; when not, which bucket refused and when one is back. */
export type RateVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly level: LimitLevel; readonly retryAfterMs: number };

const ALLOWED: RateVerdict = { ok: true };

export interface RateLimiterOptions {
  settings: RateLimitSettings;
  clock: Clock;
  /** Where the lines about bursts of refusals go (the audit log). */
  report(r: BurstReport): void;
}

/**
 * Per-client limits on commands (issue 13, point 5): a token bucket per client (one
 * connection: login and client id), and one per login for all its clients together, so a
 * client that reconnects under new client ids still meets a limit. Where the channel shows
 * no client (an external broker) only the login's bucket applies, and every command shares
 * the one of `unverified`. A refused command costs no token. Refusals are reported per
 * burst, not per command (see BurstReport).
 */
export class CommandRateLimiter {
  readonly #o: RateLimiterOptions;
  readonly #clients: KeyedBuckets | undefined;
  readonly #users: KeyedBuckets | undefined;

  constructor(opts: RateLimiterOptions) {
    this.#o = opts;
    const { client, user, maxClients } = opts.settings;
    const evicted = (e: BucketEntry) => this.#end(e);
    this.#clients = client && new KeyedBuckets(client, opts.clock, maxClients, evicted);
    this.#users = user && new KeyedBuckets(user, opts.clock, maxClients, evicted);
  }

  get settings(): RateLimitSettings {
    return this.#o.settings;
  }

  /** Takes a token for `sender`'s command, or says why not; `action` names it in reports. */
  check(sender: CommandSender, action: string): RateVerdict {
    const conn =
      sender.clientId === undefined
        ? undefined
        : this.#clients?.get(JSON.stringify([sender.user, sender.clientId]));
    const user = this.#users?.get(sender.user);
    const refusing = conn && !conn.bucket.has() ? conn : user && !user.bucket.has() ? user : null;
    if (refusing === null) {
      conn?.bucket.take();
      user?.bucket.take();
      return ALLOWED;
    }
    const level = refusing === conn ? 'client' : 'user';
    this.#refuse(refusing, level, sender, action);
    // A token is back when both buckets have one.
    const retryAfterMs = Math.max(conn?.bucket.msUntil() ?? 0, user?.bucket.msUntil() ?? 0);
    return { ok: false, level, retryAfterMs };
  }

  /** Ends every open burst with its line, so no refusal goes unreported at shutdown. */
  stop(): void {
    for (const level of [this.#clients, this.#users])
      for (const e of level?.bursting() ?? []) this.#end(e);
  }

  /** Counts the refusal in the refusing bucket's burst; the first one opens it. */
  #refuse(e: BucketEntry, level: LimitLevel, sender: CommandSender, action: string): void {
    const now = this.#o.clock.now();
    if (e.burst) {
      e.burst.refused(now);
      return;
    }
    const burst = new Burst(level, sender, action, now);
    e.burst = burst;
    burst.refused(now);
    this.#o.report(burst.report('start', now));
    this.#arm(e, burst);
  }

  /**
   * One timer per open burst, re-armed when it fires rather than at every refusal (a flood
   * would otherwise set thousands): due when the client will have been quiet for `quiet`,
   * or a minute after the last line, whichever comes first.
   */
  #arm(e: BucketEntry, burst: Burst): void {
    const { clock, settings } = this.#o;
    const due = Math.min(burst.lastAt + settings.quietMs, burst.reportedAt + REPORT_EVERY_MS);
    burst.timer = clock.setTimeout(() => this.#due(e, burst), Math.max(0, due - clock.now()));
  }

  #due(e: BucketEntry, burst: Burst): void {
    burst.timer = undefined;
    const now = this.#o.clock.now();
    if (now - burst.lastAt >= this.#o.settings.quietMs) return this.#end(e);
    if (now - burst.reportedAt >= REPORT_EVERY_MS) {
      if (burst.count > 0) this.#o.report(burst.report('continuing', now));
      else burst.reportedAt = now; // nothing new to say: wait for the quiet
    }
    this.#arm(e, burst);
  }

  #end(e: BucketEntry): void {
    const burst = e.burst;
    if (!burst) return;
    if (burst.timer) this.#o.clock.clearTimeout(burst.timer);
    e.burst = undefined;
    this.#o.report(burst.report('end', this.#o.clock.now()));
  }
}
