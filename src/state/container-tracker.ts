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
import { reachEvent, transitionEvent, type ContainerEvent } from './events.js';
import { HysteresisTable, type Condition, type Transition } from './hysteresis.js';

export interface ContainerTrackerOptions {
  clock: Clock;
  log: Logger;
  /** `containers.down_after` and `containers.cooldown`, in ms. */
  downAfterMs: number;
  cooldownMs: number;
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
  /**
   * Last published view per key (compared field by field, not kept as JSON: one string
   * per container would double what the StatePublisher already holds), and the host's
   * last state JSON: publish only changes.
   */
  readonly published: Map<string, ContainerView>;
  publishedHost?: string;
}

/**
 * The container state engine: takes collector outputs in order, keeps the latest
 * observation per container, runs hysteresis for critical ones and emits events and
 * changed views. One clock timer, for the earliest pending alert.
 */
export class ContainerTracker {
  readonly #opts: ContainerTrackerOptions;
  readonly #hosts = new Map<string, HostRecord>();
  #timer: TimerHandle | undefined;
  #timerAt: number | undefined;

  constructor(opts: ContainerTrackerOptions) {
    this.#opts = opts;
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
      rec = {
        status: 'unknown',
        containers: new Map(),
        alerts: new HysteresisTable({
          downAfterMs: this.#opts.downAfterMs,
          cooldownMs: this.#opts.cooldownMs,
        }),
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
    const condition = conditionOf(o);
    if (condition === undefined) {
      rec.alerts.forget(o.key);
    } else {
      const since = condition === 'down' ? downSince(o) : undefined;
      const now = this.#opts.clock.now();
      for (const t of rec.alerts.observe(o.key, condition, now, since ?? now)) {
        this.#emitTransition(o, t);
      }
    }
    this.#publishContainer(host, rec, o.key);
  }

  #removeId(host: string, rec: HostRecord, id: string): void {
    for (const [key, o] of rec.containers) {
      if (o.id === id) this.#drop(host, rec, key, true);
    }
  }

  /**
   * Forget-on-disappear: the container, its alert state and its published state. A
   * container removed from a host that is still watched parks an open alert for one
   * cooldown, so a re-created replacement closes it with container_recovered.
   */
  #drop(host: string, rec: HostRecord, key: string, removed = false): void {
    rec.containers.delete(key);
    rec.alerts.forget(key, removed ? this.#opts.clock.now() + this.#opts.cooldownMs : undefined);
    if (rec.published.delete(key)) {
      this.#call(() => this.#opts.onContainer?.(host, key, undefined));
    }
  }

  #hostStatus(host: string, rec: HostRecord, s: HostStatusOutput): void {
    const was = rec.status;
    rec.status = s.status;
    rec.message = s.message;
    if (s.engine !== undefined) rec.engine = s.engine;
    const wasOk = was === 'ok';
    const isOk = s.status === 'ok';
    // Unknown → ok is the normal start, not news; unknown → unreachable is (a host that
    // is down when the agent starts must not stay silent).
    if (was === 'unknown' ? isOk : wasOk === isOk) return;
    const now = this.#opts.clock.now();
    this.#emit(reachEvent(host, s.status, was, s.message, rec.engine, now));
  }

  #emitTransition(o: ContainerObservation, t: Transition): void {
    this.#emit(transitionEvent(o, t));
  }

  #emit(event: ContainerEvent): void {
    this.#call(() => this.#opts.onEvent(event));
  }

  #publishContainer(host: string, rec: HostRecord, key: string): void {
    const o = rec.containers.get(key);
    if (!o) return;
    const view = this.#containerView(rec, o);
    const last = rec.published.get(key);
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
    return { observation: o, alert: rec.alerts.get(o.key)?.alerted ?? 'ok' };
  }

  #view(host: string, rec: HostRecord): HostView {
    const criticalDown = [...rec.containers.keys()].filter(
      (k) => rec.alerts.get(k)?.alerted === 'down',
    );
    return {
      host,
      status: rec.status,
      ...(rec.message !== undefined ? { message: rec.message } : {}),
      ...(rec.engine !== undefined ? { engine: rec.engine } : {}),
      totals: totalsOf(rec.containers.values()),
      criticalDown,
    };
  }

  /** Re-arms the one timer for the earliest pending alert deadline. */
  #schedule(): void {
    let next: number | undefined;
    for (const rec of this.#hosts.values()) {
      const d = rec.alerts.nextDeadline();
      if (d !== undefined && (next === undefined || d < next)) next = d;
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
      for (const [key, t] of rec.alerts.tick(now)) {
        const o = rec.containers.get(key);
        if (!o) continue;
        this.#emitTransition(o, t);
        this.#publishContainer(host, rec, key);
      }
      this.#publishHost(host, rec);
    }
    this.#schedule();
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#opts.log.error({ err: errorMessage(err) }, 'container tracker listener failed');
    }
  }
}

/**
 * `next`, with the strings and labels it has in common with `prev` taken from `prev`.
 * Every poll parses fresh copies, while the discovery model, the alert tables and the
 * remediation state keep referring to the ones they were first handed: without this,
 * each container's name, labels, image and timestamps would be held twice or more.
 */
function sharing(prev: ContainerObservation, next: ContainerObservation): ContainerObservation {
  return {
    ...next,
    key: prev.key,
    id: pick(prev.id, next.id),
    name: pick(prev.name, next.name),
    image: pick(prev.image, next.image),
    startedAt: pick(prev.startedAt, next.startedAt),
    finishedAt: pick(prev.finishedAt, next.finishedAt),
    error: pick(prev.error, next.error),
    labels: sameLabels(prev.labels, next.labels) ? prev.labels : next.labels,
  };
}

function pick<T>(prev: T, next: T): T {
  return prev === next ? prev : next;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}

/** Only critical containers alert; the rest are state only. */
function conditionOf(o: ContainerObservation): Condition | undefined {
  if (!o.critical) return undefined;
  if (o.state !== 'running') return 'down';
  return o.health === 'unhealthy' ? 'unhealthy' : 'ok';
}

/** A stopped container has been down since it finished, not since the agent noticed. */
function downSince(o: ContainerObservation): number | undefined {
  if (!o.finishedAt) return undefined;
  const t = Date.parse(o.finishedAt);
  return Number.isNaN(t) ? undefined : t;
}
