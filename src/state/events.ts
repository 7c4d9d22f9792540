import type { ContainerObservation, HostReach } from '../collectors/containers/types.js';
import {
  alertData,
  type AlertText,
  type IncidentRef,
  type NewEvent,
  type Severity,
} from '../core/events.js';
import type { Transition } from './hysteresis.js';

/**
 * The container state engine's events, in the store's event model (src/core/events.ts:
 * the store adds id and node). `data` is JSON with snake_case keys, as it goes on the wire.
 */

export type ContainerEventType =
  | 'container_down'
  | 'container_recovered'
  | 'container_unhealthy'
  | 'host_unreachable'
  | 'host_reachable';

/** A NewEvent the store accepts as is, with the time of the transition itself. */
export interface ContainerEvent extends NewEvent {
  readonly type: ContainerEventType;
  readonly severity: Severity;
  /** `<host>` or `<host>/<container key>`. */
  readonly subject: string;
  readonly data: Record<string, unknown>;
  /** Epoch ms on the tracker's clock. */
  readonly ts: number;
}

export const SEVERITY: Record<ContainerEventType, Severity> = {
  container_down: 'critical',
  container_unhealthy: 'warning',
  container_recovered: 'info',
  host_unreachable: 'warning',
  host_reachable: 'info',
};

export function containerSubject(host: string, key: string): string {
  return `${host}/${key}`;
}

/**
 * A container alert transition as an event, with what an operator needs to act on it: its
 * words and its incident (issue #14).
 */
export function transitionEvent(
  o: ContainerObservation,
  t: Transition,
  text: AlertText,
  incident?: IncidentRef,
): ContainerEvent {
  const data = {
    host: o.host,
    key: o.key,
    name: o.name,
    id: o.id,
    image: o.image,
    state: o.state,
    health: o.health,
    exit_code: o.exitCode,
    restart_count: o.restartCount,
    oom_killed: o.oomKilled,
    from: t.from,
    to: t.to,
    condition_for_s: Math.round(t.conditionForMs / 1000),
    ...(t.alertOpenMs !== undefined ? { alert_open_s: Math.round(t.alertOpenMs / 1000) } : {}),
    ...(t.repeat ? { repeat: true } : {}),
  };
  return {
    type: t.type,
    severity: SEVERITY[t.type],
    subject: containerSubject(o.host, o.key),
    ts: t.at,
    data: alertData(data, text, incident),
  };
}

/**
 * The event that closes the incident of a container that is no longer watched as critical:
 * removed and not back within `removed_grace`, or no longer critical. A recovery by type,
 * so whatever clears a notification on `container_recovered` clears this one too.
 */
export function closingEvent(
  host: string,
  key: string,
  reason: 'removed' | 'not_critical',
  at: number,
  text: AlertText,
  incident: IncidentRef,
): ContainerEvent {
  return {
    type: 'container_recovered',
    severity: SEVERITY.container_recovered,
    subject: containerSubject(host, key),
    ts: at,
    data: alertData({ host, key, reason }, text, incident),
  };
}

/** host_unreachable (also for degraded: the containers cannot be seen) or host_reachable. */
export function reachEvent(
  host: string,
  status: HostReach,
  previous: HostReach | 'unknown',
  message: string | undefined,
  engine: string | undefined,
  at: number,
  text: AlertText,
  incident?: IncidentRef,
): ContainerEvent {
  const type = status === 'ok' ? 'host_reachable' : 'host_unreachable';
  const data = { host, status, previous, message: message ?? null, engine: engine ?? null };
  return {
    type,
    severity: SEVERITY[type],
    subject: host,
    ts: at,
    // The engine's own words stay in `reason`: `message` is the alert's, for a person.
    data: alertData({ ...data, reason: data.message }, text, incident),
  };
}
