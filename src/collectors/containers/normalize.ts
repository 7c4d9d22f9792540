import type { InspectRecord } from '../../hosts/inspect-schema.js';
import {
  COMPOSE_NUMBER,
  COMPOSE_ONEOFF,
  COMPOSE_PROJECT,
  COMPOSE_SERVICE,
  containerKey,
} from './identity.js';
import type { ContainerSelector } from './selection.js';
import type { ContainerHealth, ContainerObservation, ContainerRunState } from './types.js';

/**
 * docker and podman inspect records → one ContainerObservation. The two engines agree on
 * most fields; where they differ (state words, health location, name and image forms)
 * this is the one place that knows.
 */

// podman's own words (libpod define/containerstate.go) mapped to Docker's.
const RUN_STATES: Record<string, ContainerRunState> = {
  running: 'running',
  exited: 'exited',
  paused: 'paused',
  restarting: 'restarting',
  dead: 'dead',
  created: 'created',
  // Docker: being removed; it is not running, and a destroy event follows.
  removing: 'exited',
  // podman
  configured: 'created',
  initialized: 'created',
  stopped: 'exited',
  stopping: 'running',
};

/** A state word as the engine wrote it → one of the six; unknown words count as dead. */
export function runState(record: InspectRecord): ContainerRunState {
  const s = record.State;
  // The booleans are authoritative where present: Docker reports Status "running" for
  // a paused or restarting container in some API versions.
  if (s.Paused) return 'paused';
  if (s.Restarting) return 'restarting';
  if (s.Dead) return 'dead';
  return RUN_STATES[s.Status.toLowerCase()] ?? 'dead';
}

export function healthOf(record: InspectRecord): ContainerHealth {
  const status = (record.State.Health ?? record.State.Healthcheck)?.Status?.toLowerCase();
  if (status === 'healthy' || status === 'unhealthy' || status === 'starting') return status;
  return 'none';
}

/** Go's zero time ("0001-01-01T00:00:00Z") and empty strings mean "never". */
export function engineTime(value: string | undefined): string | null {
  if (!value || value.startsWith('0001-01-01')) return null;
  return Number.isNaN(Date.parse(value)) ? null : value;
}

/** The observation of one container, or undefined when it is not monitored. */
export function observe(
  host: string,
  record: InspectRecord,
  selector: ContainerSelector,
  now: number,
): ContainerObservation | undefined {
  const name = record.Name.replace(/^\/+/, '');
  const labels = record.Config.Labels ?? {};
  const selection = selector.select({ name, labels });
  if (!selection.monitored) return undefined;
  const state = runState(record);
  const startedAt = engineTime(record.State.StartedAt);
  const finishedAt = engineTime(record.State.FinishedAt);
  const started = startedAt === null ? NaN : Date.parse(startedAt);
  return {
    host,
    key: containerKey({ name, labels }),
    id: record.Id,
    name,
    image: record.Config.Image ?? record.ImageName ?? record.Image,
    state,
    health: healthOf(record),
    // Docker reports 0 for a container that has never exited; finishedAt tells them apart.
    exitCode: finishedAt === null && record.State.ExitCode === 0 ? null : record.State.ExitCode,
    restartCount: record.RestartCount,
    startedAt,
    finishedAt,
    uptimeMs: state === 'running' && !Number.isNaN(started) ? Math.max(0, now - started) : null,
    oomKilled: record.State.OOMKilled === true,
    error: record.State.Error ? record.State.Error : null,
    labels: keptLabels(labels),
    critical: selection.critical,
    observedAt: now,
  };
}

/** Compose's identity labels: all the agent reads besides its own `outpost.*` ones. */
const IDENTITY_LABELS: ReadonlySet<string> = new Set([
  COMPOSE_PROJECT,
  COMPOSE_SERVICE,
  COMPOSE_NUMBER,
  COMPOSE_ONEOFF,
]);

/**
 * The labels an observation keeps: those the agent reads (compose identity, `outpost.*`).
 * The rest (config hashes, working dirs, image descriptions: often a kilobyte or two per
 * container) would only be held, for every container, until the next poll.
 */
export function keptLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (IDENTITY_LABELS.has(k) || k.startsWith('outpost.')) out[k] = v;
  }
  return out;
}

/**
 * One observation per key: two containers can share one (a re-created container while
 * the old one is still being removed). The running one wins, then the most recently started.
 */
export function dedupeByKey(list: readonly ContainerObservation[]): ContainerObservation[] {
  const byKey = new Map<string, ContainerObservation>();
  for (const o of list) {
    const seen = byKey.get(o.key);
    if (!seen || preferred(o, seen)) byKey.set(o.key, o);
  }
  return [...byKey.values()];
}

/** Whether `a` should stand for its key rather than `b`. */
export function preferred(a: ContainerObservation, b: ContainerObservation): boolean {
  const ar = a.state === 'running';
  const br = b.state === 'running';
  if (ar !== br) return ar;
  return (a.startedAt ?? '') > (b.startedAt ?? '');
}
