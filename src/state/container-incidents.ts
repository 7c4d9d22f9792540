import type { ContainerObservation, HostReach } from '../collectors/containers/types.js';
import { notCriticalText, reachText, removedText, transitionText } from './container-alert-text.js';
import {
  closingEvent,
  containerSubject,
  reachEvent,
  SEVERITY,
  transitionEvent,
  type ContainerEvent,
} from './events.js';
import type { AlertTrack, Condition, Transition } from './hysteresis.js';
import { incidentRef, type Incident, type Incidents } from './incidents.js';

/** An alert an earlier run (or a removal) left open, to be taken up again. */
export interface RestoredAlert {
  readonly track: AlertTrack;
  /** The restart count when the problem began, for the words. */
  readonly restartsAt?: number;
}

/**
 * The container tracker's side of the incident book (src/state/incidents.ts): a critical
 * container's open alert is its incident (signal `alert`), a host the agent cannot see is
 * one too (signal `reach`). It opens, raises again and closes them, names them on the
 * events, hands back the alerts an earlier run left open, and answers the critical-down
 * sensor.
 */
export class ContainerIncidents {
  readonly #book: Incidents;

  constructor(book: Incidents) {
    this.#book = book;
  }

  /**
   * A transition of a container's alert as its event: its incident opened, raised again
   * or closed. `restartsAt`: the restart count when the problem began.
   */
  transition(o: ContainerObservation, t: Transition, restartsAt?: number): ContainerEvent {
    const subject = containerSubject(o.host, o.key);
    const began = t.at - t.conditionForMs;
    const closes = t.type === 'container_recovered';
    const incident = closes
      ? this.#book.close('container', subject)
      : this.#book.raise(subject, 'alert', SEVERITY[t.type], t.at, {
          kind: 'container',
          since: began,
          target: `${o.host}/${o.name}`,
          ...(restartsAt !== undefined ? { context: { restart_count: restartsAt } } : {}),
        }).incident;
    const restarts = restartsAt === undefined ? undefined : o.restartCount - restartsAt;
    const text = transitionText(o, t, {
      subject,
      since: incident?.since ?? began,
      ...(restarts !== undefined ? { restarts } : {}),
    });
    const ref = incident && incidentRef(incident, t.at, closes ? 'closed' : 'open');
    return transitionEvent(o, t, text, ref);
  }

  /** The alert an earlier run left open for this container, if any. */
  restored(host: string, key: string): RestoredAlert | undefined {
    const i = this.#book.get('container', containerSubject(host, key));
    return i && restoredAlert(i);
  }

  /** Every alert an earlier run left open on `host`, by container key. */
  restoredOn(host: string): Map<string, RestoredAlert> {
    const out = new Map<string, RestoredAlert>();
    for (const i of this.#book.list('container')) {
      const key = keyOf(host, i.subject);
      const alert = key === undefined ? undefined : restoredAlert(i);
      if (key !== undefined && alert) out.set(key, alert);
    }
    return out;
  }

  /**
   * Closes the incident of a container no longer watched as critical (removed and not
   * back within the grace, or no longer critical): its closing event, or nothing when no
   * alert of it was open.
   */
  close(
    host: string,
    key: string,
    why: { reason: 'removed'; removedAt: number } | { reason: 'not_critical' },
    at: number,
  ): ContainerEvent | undefined {
    const subject = containerSubject(host, key);
    const closed = this.drop('container', subject);
    if (!closed) return undefined;
    const text =
      why.reason === 'removed' ? removedText(subject, why.removedAt, at) : notCriticalText(subject);
    return closingEvent(host, key, why.reason, at, text, incidentRef(closed, at, 'closed'));
  }

  /** Closes, without a word, the incident of a subject nothing watches any more. */
  drop(kind: 'container' | 'host', subject: string): Incident | undefined {
    const open = this.#book.get(kind, subject);
    if (!open || (!('alert' in open.signals) && !('reach' in open.signals))) return undefined;
    return this.#book.close(kind, subject);
  }

  /**
   * A host's reachability changed from `was` to `status`: its event, or nothing when it is
   * not news. Before the first report (`unknown`), an open incident says "cannot see it"
   * was announced before a restart of the agent: it is not announced again.
   */
  reach(
    host: string,
    status: HostReach,
    was: HostReach | 'unknown',
    message: string | undefined,
    engine: string | undefined,
    at: number,
  ): ContainerEvent | undefined {
    const announced = was === 'unknown' ? this.#book.get('host', host) !== undefined : was !== 'ok';
    const ok = status === 'ok';
    if (announced !== ok) return undefined;
    const incident = ok
      ? this.#book.close('host', host)
      : this.#book.raise(host, 'reach', SEVERITY.host_unreachable, at, { kind: 'host' }).incident;
    const text = reachText(host, status, message, at, ok ? incident?.since : undefined);
    const ref = incident && incidentRef(incident, at, ok ? 'closed' : 'open');
    return reachEvent(host, status, was, message, engine, at, text, ref);
  }

  /**
   * Keys of the host's containers with an open critical incident (issue #14: the sensor
   * follows the incidents exactly, a removed one within its grace and one restored after
   * a restart included).
   */
  criticalDown(host: string): string[] {
    const keys: string[] = [];
    for (const i of this.#book.list('container')) {
      const key = keyOf(host, i.subject);
      if (key !== undefined && i.severity === 'critical') keys.push(key);
    }
    return keys.sort();
  }
}

/** An open incident of the container tracker, as the alert track it was. */
function restoredAlert(i: Incident): RestoredAlert | undefined {
  const sev = i.signals.alert;
  if (sev === undefined) return undefined;
  const alerted: Condition = sev === 'critical' ? 'down' : 'unhealthy';
  const n = i.context?.restart_count;
  return {
    track: {
      observed: alerted,
      since: i.since,
      alerted,
      alertedAt: i.openedAt,
      lastAlertAt: i.lastAlertAt,
    },
    ...(typeof n === 'number' ? { restartsAt: n } : {}),
  };
}

/** The container key of `<host>/<key>`, when the subject is one of `host`'s. */
function keyOf(host: string, subject: string): string | undefined {
  const prefix = `${host}/`;
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}
