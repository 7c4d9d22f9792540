import type { ContainerObservation, HostReach } from '../collectors/containers/types.js';
import { OFFLINE, ONLINE } from '../core/topics.js';
import type { Condition } from './hysteresis.js';

/**
 * What the tracker knows, as plain values: one ContainerView per container and one
 * HostView per host, plus the JSON state objects published (retained) on
 * `topics.container(root, host, key)` and read by the entities in
 * discovery/entities/containers.ts (CONTAINER_FIELDS), and the health API report.
 */

export interface ContainerView {
  readonly observation: ContainerObservation;
  /** The open alert (`ok` when none): hysteresis applied, unlike `observation.state`. */
  readonly alert: Condition;
}

export interface HostTotals {
  readonly total: number;
  readonly running: number;
  /** Every monitored container not running: exited, created, paused, restarting, dead. */
  readonly stopped: number;
  readonly unhealthy: number;
}

export interface HostView {
  readonly host: string;
  /** `unknown` until the collector has reported once. */
  readonly status: HostReach | 'unknown';
  readonly message?: string;
  readonly engine?: string;
  readonly totals: HostTotals;
  /** Keys of critical containers with an open `down` alert (after down_after). */
  readonly criticalDown: readonly string[];
}

/** The retained container state (snake_case: it is MQTT JSON). */
export interface ContainerStatePayload {
  name: string;
  state: ContainerObservation['state'];
  health: ContainerObservation['health'];
  exit_code: number | null;
  restart_count: number;
  started_at: string | null;
  finished_at: string | null;
  image: string;
  oom_killed: boolean;
  critical: boolean;
  alert: Condition;
}

/**
 * Uptime is left out on purpose: it changes on every poll, so a retained message with it
 * would be republished for every container every 30 s. `started_at` carries the same
 * information and HA's timestamp sensor shows it as "2 hours ago".
 */
export function containerStatePayload(view: ContainerView): ContainerStatePayload {
  const o = view.observation;
  return {
    name: o.name,
    state: o.state,
    health: o.health,
    exit_code: o.exitCode,
    restart_count: o.restartCount,
    started_at: o.startedAt,
    finished_at: o.finishedAt,
    image: o.image,
    oom_killed: o.oomKilled,
    critical: o.critical,
    alert: view.alert,
  };
}

/**
 * Whether two views publish the same container state (what containerStatePayload reads),
 * compared field by field: called for every container on every poll round, it builds no
 * payload (issue 15: two objects per container per round were garbage at 5,000).
 */
export function sameContainerState(a: ContainerView, b: ContainerView): boolean {
  if (a.alert !== b.alert) return false;
  const x = a.observation;
  const y = b.observation;
  return (
    x === y ||
    (x.name === y.name &&
      x.state === y.state &&
      x.health === y.health &&
      x.exitCode === y.exitCode &&
      x.restartCount === y.restartCount &&
      x.startedAt === y.startedAt &&
      x.finishedAt === y.finishedAt &&
      x.image === y.image &&
      x.oomKilled === y.oomKilled &&
      x.critical === y.critical)
  );
}

export interface HostStatePayload {
  status: HostView['status'];
  message: string | null;
  engine: string | null;
  containers: number;
  running: number;
  stopped: number;
  unhealthy: number;
  critical_down: boolean;
  critical_down_list: string[];
}

export function hostStatePayload(view: HostView): HostStatePayload {
  return {
    status: view.status,
    message: view.message ?? null,
    engine: view.engine ?? null,
    containers: view.totals.total,
    running: view.totals.running,
    stopped: view.totals.stopped,
    unhealthy: view.totals.unhealthy,
    critical_down: view.criticalDown.length > 0,
    critical_down_list: [...view.criticalDown],
  };
}

/** The host availability payload (`topics.hostAvailability`): can the agent see it? */
export function hostAvailability(view: HostView): typeof ONLINE | typeof OFFLINE {
  return view.status === 'ok' ? ONLINE : OFFLINE;
}

export function totalsOf(observations: Iterable<ContainerObservation>): HostTotals {
  let total = 0;
  let running = 0;
  let unhealthy = 0;
  for (const o of observations) {
    total++;
    if (o.state === 'running') running++;
    if (o.health === 'unhealthy') unhealthy++;
  }
  return { total, running, stopped: total - running, unhealthy };
}

/** GET /api/health/services: one entry per watched container. */
export interface ServicesReport {
  timestamp: string;
  summary: { total: number; ok: number; down: number; unknown: number };
  services: ServiceEntry[];
  /** Beyond the contract: the hosts themselves, so an unreachable empty host shows too. */
  hosts: { host: string; status: HostView['status']; message: string | null }[];
}

export interface ServiceEntry {
  host: string;
  /** The container key (compose project-service, else name). */
  name: string;
  status: 'ok' | 'down' | 'unknown';
  message: string;
  critical: boolean;
}

/** A container's entry: unknown while its host cannot be seen, since the data is stale. */
export function serviceEntry(host: HostView, view: ContainerView): ServiceEntry {
  const o = view.observation;
  const base = { host: host.host, name: o.key, critical: o.critical };
  if (host.status !== 'ok') {
    const why = host.status === 'unknown' ? 'not yet reached' : host.status;
    return { ...base, status: 'unknown', message: `host ${why}: last seen ${o.state}` };
  }
  if (o.state === 'running' && o.health !== 'unhealthy') {
    const health = o.health === 'none' ? '' : `, ${o.health}`;
    return { ...base, status: 'ok', message: `running${health}` };
  }
  if (o.state === 'running') return { ...base, status: 'down', message: 'running, unhealthy' };
  const code = o.exitCode === null ? '' : ` (exit code ${o.exitCode}${o.oomKilled ? ', OOM' : ''})`;
  const since = o.finishedAt ? ` since ${o.finishedAt}` : '';
  return { ...base, status: 'down', message: `${o.state}${code}${since}` };
}
