import type {
  ContainerCollectorOutput,
  ContainerObservation,
  HostStatusOutput,
} from '../collectors/containers/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  hostStatePayload,
  sameContainerState,
  serviceEntry,
  totalsOf,
  type ContainerView,
  type HostView,
  type ServicesReport,
} from './container-view.js';
import { ContainerIncidents } from './container-incidents.js';
import { verdictOf } from './container-verdict.js';
import { sharing } from './observation-sharing.js';
import type { DownClocks } from './down-clocks.js';
import { containerSubject, type ContainerEvent } from './events.js';
import { HysteresisTable, type AlertTrack, type Transition } from './hysteresis.js';
import { Incidents } from './incidents.js';

export interface ContainerTrackerOptions {
  clock: Clock;
  log: Logger;
  /** `containers.down_after`, `cooldown`, `stable_after` and `removed_grace`, in ms. */
  downAfterMs: number;
  cooldownMs: number;
  /** Default 0: up is up at once. */
  stableAfterMs?: number;
  /** Default `cooldownMs`. */
  removedGraceMs?: number;
  /**
   * Open incidents, shared with the agent's other state machines and kept across restarts:
   * a container's open alert is its incident, restored from here after a restart. Default:
   * a book of its own, in memory.
   */
  incidents?: Incidents;
  /** Down clocks of alerts still waiting, kept across restarts (down-clocks.ts). */
  downClocks?: DownClocks;
  /** Every transition, in order. */
  onEvent(event: ContainerEvent): void;
  /**
   * A container's view changed (`first`: the first view of it); `undefined` when it is
   * gone (clear its retained state).
   */
  onContainer?(host: string, key: string, view: ContainerView | undefined, first?: boolean): void;
  /** A host's view changed; `undefined` when the host is forgotten. */
  onHost?(host: string, view: HostView | undefined): void;
}

interface HostRecord {
  status: HostView['status'];
  message?: string;
  engine?: string;
  readonly containers: Map<string, ContainerObservation>;
  readonly alerts: HysteresisTable<string>;
  /** The restart count when a critical container's current problem began (for the words). */
  readonly restartsAt: Map<string, number>;
  /** Critical containers running again but not yet for `stable_after`: when to look again. */
  readonly settles: Map<string, number>;
  /** Removed containers whose incident is open: kept until `until` in case they come back. */
  readonly gone: Map<string, Gone>;
  /** A complete listing was seen: incidents restored for keys it lacked are parked. */
  listed: boolean;
  /**
   * Last published view per key (compared field by field, not kept as JSON: one string
   * per container would double what the StatePublisher already holds), and the host's
   * last state JSON: publish only changes.
   */
  readonly published: Map<string, ContainerView>;
  publishedHost?: string;
}

interface Gone {
  readonly track: AlertTrack;
  readonly removedAt: number;
  readonly until: number;
}

/**
 * The container state engine: takes collector outputs in order, keeps the latest
 * observation per container, runs hysteresis for critical ones and emits events and
 * changed views. One clock timer, for the earliest pending alert.
 */
export class ContainerTracker {
  readonly #opts: ContainerTrackerOptions;
  readonly #stableAfterMs: number;
  readonly #removedGraceMs: number;
  readonly #incidents: ContainerIncidents;
  readonly #hosts = new Map<string, HostRecord>();
  #timer: TimerHandle | undefined;
  #timerAt: number | undefined;

  constructor(opts: ContainerTrackerOptions) {
    this.#opts = opts;
    this.#stableAfterMs = opts.stableAfterMs ?? 0;
    this.#removedGraceMs = opts.removedGraceMs ?? opts.cooldownMs;
    this.#incidents = new ContainerIncidents(opts.incidents ?? new Incidents());
  }

  /** The collectors' sink. Never throws: a failing listener is logged. */
  apply(output: ContainerCollectorOutput): void {
    const rec = this.#host(output.host);
    switch (output.kind) {
      case 'snapshot':
        this.#snapshot(output.host, rec, output.containers);
        break;
      case 'container':
        this.#upsert(output.host, rec, output.container);
        break;
      case 'removed':
        this.#removeId(output.host, rec, output.id);
        break;
      case 'host':
        this.#hostStatus(output.host, rec, output);
        break;
    }
    this.#publishHost(output.host, rec);
    this.#schedule();
  }

  /** Drops a host and everything tracked on it (it left the config). */
  forgetHost(host: string): void {
    const rec = this.#hosts.get(host);
    if (!rec) return;
    for (const key of [...rec.containers.keys()]) this.#drop(host, rec, key);
    // Nothing watches it any more: its incidents would stay open for ever.
    for (const key of rec.gone.keys())
      this.#incidents.drop('container', containerSubject(host, key));
    this.#incidents.drop('host', host);
    this.#hosts.delete(host);
    this.#call(() => this.#opts.onHost?.(host, undefined));
    this.#schedule();
  }

  hostView(host: string): HostView | undefined {
    const rec = this.#hosts.get(host);
    return rec ? this.#view(host, rec) : undefined;
  }

  hostViews(): HostView[] {
    return [...this.#hosts.keys()].map((h) => this.hostView(h)!);
  }

  /** The host's current observations, as held (no views built): unchanged ones keep identity. */
  observationsOf(host: string): Iterable<ContainerObservation> {
    return this.#hosts.get(host)?.containers.values() ?? [];
  }

  containerViews(host: string): ContainerView[] {
    const rec = this.#hosts.get(host);
    if (!rec) return [];
    return [...rec.containers.values()].map((o) => this.#containerView(rec, o));
  }

  /** Every container's last published view (what onContainer was last handed). */
  *publishedViews(): Generator<[host: string, key: string, view: ContainerView]> {
    for (const [host, rec] of this.#hosts) {
      for (const [key, view] of rec.published) yield [host, key, view];
    }
  }

  /** The health API's answer, built from what is tracked right now. */
  servicesReport(): ServicesReport {
    const services = this.hostViews().flatMap((h) =>
      this.containerViews(h.host).map((v) => serviceEntry(h, v)),
    );
    const count = (s: string) => services.filter((e) => e.status === s).length;
    return {
      timestamp: new Date(this.#opts.clock.now()).toISOString(),
      summary: {
        total: services.length,
        ok: count('ok'),
        down: count('down'),
        unknown: count('unknown'),
      },
      services,
      hosts: this.hostViews().map((h) => ({
        host: h.host,
        status: h.status,
        message: h.message ?? null,
      })),
    };
  }

  /** Cancels the alert timer; the tracker can still be fed afterwards. */
  stop(): void {
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }

  #host(host: string): HostRecord {
    let rec = this.#hosts.get(host);
    if (!rec) {
      const { downAfterMs, cooldownMs } = this.#opts;
      const stableAfterMs = this.#stableAfterMs;
      rec = {
        status: 'unknown',
        containers: new Map(),
        alerts: new HysteresisTable({ downAfterMs, cooldownMs, stableAfterMs }),
        restartsAt: new Map(),
        settles: new Map(),
        gone: new Map(),
        listed: false,
        published: new Map(),
      };
      this.#hosts.set(host, rec);
    }
    return rec;
  }

  #snapshot(host: string, rec: HostRecord, list: readonly ContainerObservation[]): void {
    const present = new Set(list.map((o) => o.key));
    for (const key of [...rec.containers.keys()]) {
      if (!present.has(key)) this.#drop(host, rec, key, true);
    }
    for (const o of list) this.#upsert(host, rec, o, true);
    if (!rec.listed) this.#parkRestored(host, rec, present);
    if (!rec.listed) this.#opts.downClocks?.prune(host, present);
    rec.listed = true;
  }

  /**
   * After a restart: an open incident of a container the first complete listing lacks is
   * a container removed while down (before or during the restart), kept for the grace.
   */
  #parkRestored(host: string, rec: HostRecord, present: ReadonlySet<string>): void {
    const now = this.#opts.clock.now();
    for (const [key, r] of this.#incidents.restoredOn(host)) {
      if (present.has(key) || rec.gone.has(key)) continue;
      rec.gone.set(key, { track: r.track, removedAt: now, until: now + this.#removedGraceMs });
      if (r.restartsAt !== undefined) rec.restartsAt.set(key, r.restartsAt);
    }
  }

  #upsert(host: string, rec: HostRecord, next: ContainerObservation, authoritative = false): void {
    const current = rec.containers.get(next.key);
    // Two containers can share a key while compose re-creates one: a late event about the
    // old, stopped one must not replace the new, running one. A snapshot has already
    // chosen one per key, so it always wins.
    if (!authoritative && current && current.id !== next.id) {
      if (current.state === 'running' && next.state !== 'running') return;
    }
    const o = current ? sharing(current, next) : next;
    rec.containers.set(o.key, o);
    this.#evaluate(host, rec, o, current);
    this.#publishContainer(host, rec, o.key);
  }

  /** Runs a container's observation through its verdict and hysteresis; emits what changed. */
  #evaluate(
    host: string,
    rec: HostRecord,
    o: ContainerObservation,
    prev: ContainerObservation | undefined,
  ): void {
    const now = this.#opts.clock.now();
    const track = rec.alerts.get(o.key);
    // A kept down clock says it was down before a restart of the agent: a run since then
    // counts only once it lasts stable_after.
    const was = track?.observed ?? this.#opts.downClocks?.was(host, o.key);
    const verdict = verdictOf(o, prev, was, now, this.#stableAfterMs);
    if (verdict === 'hold') return;
    if (verdict === undefined) return this.#notCritical(host, rec, o.key, now);
    if (verdict.settleAt === undefined) rec.settles.delete(o.key);
    else rec.settles.set(o.key, verdict.settleAt);
    const { condition } = verdict;
    let since = verdict.since;
    let transitions: readonly Transition[];
    if (track) {
      if (condition !== 'ok' && track.observed === 'ok' && track.alerted === 'ok') {
        rec.restartsAt.set(o.key, prev?.restartCount ?? o.restartCount);
      }
      transitions = rec.alerts.observe(o.key, condition, now, since);
    } else {
      const kept = this.#resumable(host, rec, o.key);
      if (!kept && condition !== 'ok') rec.restartsAt.set(o.key, o.restartCount);
      const clocks = this.#opts.downClocks;
      if (!kept && condition === 'down' && clocks)
        since = clocks.resumed(host, o, since, this.#stableAfterMs);
      transitions = kept
        ? rec.alerts.resume(o.key, kept, condition, now, since)
        : rec.alerts.observe(o.key, condition, now, since);
    }
    for (const t of transitions) this.#emitTransition(rec, o, t);
    const after = rec.alerts.get(o.key);
    this.#opts.downClocks?.note(host, o.key, after);
    if (after?.observed === 'ok' && after.alerted === 'ok') rec.restartsAt.delete(o.key);
  }

  /**
   * The open alert a container had before it was last seen: removed and re-created within
   * the grace, or open when the agent stopped (restored from its incident).
   */
  #resumable(host: string, rec: HostRecord, key: string): AlertTrack | undefined {
    const gone = rec.gone.get(key);
    if (gone) {
      rec.gone.delete(key);
      return gone.track;
    }
    const restored = this.#incidents.restored(host, key);
    if (restored?.restartsAt !== undefined) rec.restartsAt.set(key, restored.restartsAt);
    return restored?.track;
  }

  /** A container that is not (or no longer) critical: no alert; an open incident closes. */
  #notCritical(host: string, rec: HostRecord, key: string, now: number): void {
    rec.alerts.forget(key);
    rec.settles.delete(key);
    rec.restartsAt.delete(key);
    const closing = this.#incidents.close(host, key, { reason: 'not_critical' }, now);
    if (closing) this.#emit(closing);
  }

  #removeId(host: string, rec: HostRecord, id: string): void {
    for (const [key, o] of rec.containers) {
      if (o.id === id) this.#drop(host, rec, key, true);
    }
  }

  /**
   * Forget-on-disappear: the container, its pending alert and its published state. A
   * container removed from a host that is still watched keeps an open incident for
   * `removed_grace`: compose re-creates a container as remove + create under the same key,
   * and the replacement is the same outage, closed when it has run for `stable_after`.
   */
  #drop(host: string, rec: HostRecord, key: string, removed = false): void {
    rec.containers.delete(key);
    rec.settles.delete(key);
    const track = rec.alerts.forget(key);
    this.#opts.downClocks?.note(host, key, undefined);
    const now = this.#opts.clock.now();
    if (removed && track && track.alerted !== 'ok') {
      rec.gone.set(key, { track, removedAt: now, until: now + this.#removedGraceMs });
    } else {
      rec.restartsAt.delete(key);
      // The host left the config: nothing will close its incidents any more.
      if (!removed) this.#incidents.drop('container', containerSubject(host, key));
    }
    if (rec.published.delete(key)) {
      this.#call(() => this.#opts.onContainer?.(host, key, undefined));
    }
  }

  #hostStatus(host: string, rec: HostRecord, s: HostStatusOutput): void {
    const was = rec.status;
    rec.status = s.status;
    rec.message = s.message;
    if (s.engine !== undefined) rec.engine = s.engine;
    const now = this.#opts.clock.now();
    const event = this.#incidents.reach(host, s.status, was, s.message, rec.engine, now);
    if (event) this.#emit(event);
  }

  /** A transition of a container's alert: its incident opened, raised again or closed. */
  #emitTransition(rec: HostRecord, o: ContainerObservation, t: Transition): void {
    this.#emit(this.#incidents.transition(o, t, rec.restartsAt.get(o.key)));
  }

  #emit(event: ContainerEvent): void {
    this.#call(() => this.#opts.onEvent(event));
  }

  #publishContainer(host: string, rec: HostRecord, key: string): void {
    const o = rec.containers.get(key);
    if (!o) return;
    const last = rec.published.get(key);
    // The same observation (the collector reuses an unchanged record) and alert: nothing to
    // publish and no new view to keep.
    if (last && last.observation === o && last.alert === this.#alertOf(rec, o)) return;
    const view = this.#containerView(rec, o);
    // The newest view is kept either way, so the replaced observation can be collected.
    rec.published.set(key, view);
    if (last && sameContainerState(last, view)) return;
    this.#call(() => this.#opts.onContainer?.(host, key, view, last === undefined));
  }

  #publishHost(host: string, rec: HostRecord): void {
    if (!this.#hosts.has(host)) return;
    const view = this.#view(host, rec);
    const json = JSON.stringify(hostStatePayload(view));
    if (rec.publishedHost === json) return;
    rec.publishedHost = json;
    this.#call(() => this.#opts.onHost?.(host, view));
  }

  #containerView(rec: HostRecord, o: ContainerObservation): ContainerView {
    return { observation: o, alert: this.#alertOf(rec, o) };
  }

  #alertOf(rec: HostRecord, o: ContainerObservation): ContainerView['alert'] {
    return rec.alerts.get(o.key)?.alerted ?? 'ok';
  }

  #view(host: string, rec: HostRecord): HostView {
    return {
      host,
      status: rec.status,
      ...(rec.message !== undefined ? { message: rec.message } : {}),
      ...(rec.engine !== undefined ? { engine: rec.engine } : {}),
      totals: totalsOf(rec.containers.values()),
      criticalDown: this.#incidents.criticalDown(host),
    };
  }

  /** Re-arms the one timer for the earliest deadline: alerts, settling, removal graces. */
  #schedule(): void {
    let next: number | undefined;
    const consider = (d: number | undefined) => {
      if (d !== undefined && (next === undefined || d < next)) next = d;
    };
    for (const rec of this.#hosts.values()) {
      consider(rec.alerts.nextDeadline());
      for (const d of rec.settles.values()) consider(d);
      for (const g of rec.gone.values()) consider(g.until);
    }
    if (next === this.#timerAt) return;
    this.stop();
    if (next === undefined) return;
    const { clock } = this.#opts;
    this.#timerAt = next;
    this.#timer = clock.setTimeout(() => this.#fire(), Math.max(0, next - clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = undefined;
    const now = this.#opts.clock.now();
    for (const [host, rec] of this.#hosts) {
      // Settling first: a container that has now run for stable_after is up, not due.
      for (const [key, at] of [...rec.settles]) {
        if (at > now) continue;
        rec.settles.delete(key);
        const o = rec.containers.get(key);
        if (o) this.#evaluate(host, rec, o, o);
        this.#publishContainer(host, rec, key);
      }
      for (const [key, t] of rec.alerts.tick(now)) {
        const o = rec.containers.get(key);
        if (!o) continue;
        this.#emitTransition(rec, o, t);
        this.#opts.downClocks?.note(host, key, rec.alerts.get(key));
        this.#publishContainer(host, rec, key);
      }
      for (const [key, g] of [...rec.gone]) {
        if (g.until <= now) this.#expireGone(host, rec, key, g, now);
      }
      this.#publishHost(host, rec);
    }
    this.#schedule();
  }

  /** A removed container did not come back within the grace: its incident closes. */
  #expireGone(host: string, rec: HostRecord, key: string, g: Gone, now: number): void {
    rec.gone.delete(key);
    rec.restartsAt.delete(key);
    const why = { reason: 'removed' as const, removedAt: g.removedAt };
    const closing = this.#incidents.close(host, key, why, now);
    if (closing) this.#emit(closing);
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#opts.log.error({ err: errorMessage(err) }, 'container tracker listener failed');
    }
  }
}
