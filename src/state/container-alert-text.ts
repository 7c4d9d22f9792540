import type { ContainerObservation, HostReach } from '../collectors/containers/types.js';
import type { AlertText } from '../core/events.js';
import { spokenDuration } from '../core/spoken-duration.js';
import type { Transition } from './hysteresis.js';

/**
 * The words of the container alerts (issue #14: "nas/radarr has been down for 6 min:
 * exited (137), 4 restarts in 6 min"). The same words go in the event's `title` and
 * `message`, in the log, and on Home Assistant's Alerts entity.
 */

export interface ProblemContext {
  /** `<host>/<key>`, as the event's subject. */
  readonly subject: string;
  /** When the problem began: the incident's start, before its first alert. */
  readonly since: number;
  /** Restarts by the engine since then, when known. */
  readonly restarts?: number;
}

/** A transition of a container's alert, in words. */
export function transitionText(
  o: ContainerObservation,
  t: Transition,
  ctx: ProblemContext,
): AlertText {
  const { subject } = ctx;
  const lasted = spokenDuration(t.at - ctx.since);
  const now = `${stateText(o, t.at, t.to === 'down')}${restartsText(ctx, t.at)}`;
  if (t.type === 'container_recovered') {
    return {
      title: `${subject} recovered`,
      message: `${subject} is up again after ${lasted}: ${now}`,
    };
  }
  if (t.type === 'container_down') {
    return t.repeat
      ? {
          title: `${subject} is still down`,
          message: `${subject} is still down after ${lasted}: ${now}`,
        }
      : { title: `${subject} is down`, message: `${subject} has been down for ${lasted}: ${now}` };
  }
  const failing = `its healthcheck fails, ${now}`;
  if (t.repeat) {
    return {
      title: `${subject} is still unhealthy`,
      message: `${subject} is still unhealthy after ${lasted}: ${failing}`,
    };
  }
  return {
    title: t.from === 'down' ? `${subject} is running but unhealthy` : `${subject} is unhealthy`,
    message: `${subject} has been unhealthy for ${spokenDuration(t.conditionForMs)}: ${failing}`,
  };
}

/** A removed container whose incident was open did not come back within the grace. */
export function removedText(subject: string, removedAt: number, at: number): AlertText {
  return {
    title: `${subject} was removed`,
    message:
      `${subject} was removed ${spokenDuration(at - removedAt)} ago while down and has not ` +
      'come back: its incident is closed',
  };
}

/** A container whose incident was open stopped being critical (its label or the config). */
export function notCriticalText(subject: string): AlertText {
  return {
    title: `${subject} is no longer critical`,
    message: `${subject} is no longer critical: its incident is closed`,
  };
}

/** A host the agent can or cannot see. */
export function reachText(
  host: string,
  status: HostReach,
  message: string | undefined,
  at: number,
  since: number | undefined,
): AlertText {
  if (status === 'ok') {
    const after = since === undefined ? '' : ` after ${spokenDuration(at - since)}`;
    return {
      title: `${host} is reachable again`,
      message: `outpost sees the containers on ${host} again${after}`,
    };
  }
  const why = message ? `: ${message}` : '';
  return {
    title: `${host} is ${status}`,
    message: `outpost cannot see the containers on ${host} (${status})${why}`,
  };
}

/** What the container is doing now, in a few words. */
function stateText(o: ContainerObservation, at: number, stillDown: boolean): string {
  switch (o.state) {
    case 'running': {
      const started = o.startedAt === null ? NaN : Date.parse(o.startedAt);
      const health = o.health === 'unhealthy' ? ', unhealthy' : '';
      if (Number.isNaN(started)) return `running${health}`;
      const up = spokenDuration(at - started);
      // Running yet down: it came back and has not stayed up long enough to count.
      return stillDown ? `running again for only ${up}${health}` : `running for ${up}${health}`;
    }
    case 'exited':
      return `exited (${o.exitCode ?? '?'})${o.oomKilled ? ', out of memory' : ''}`;
    case 'restarting':
      return o.exitCode === null ? 'restarting' : `restarting after exit (${o.exitCode})`;
    case 'created':
      return 'created, not running';
    default:
      return o.state;
  }
}

function restartsText(ctx: ProblemContext, at: number): string {
  const n = ctx.restarts ?? 0;
  if (n <= 0) return '';
  return `, ${n} restart${n === 1 ? '' : 's'} in ${spokenDuration(at - ctx.since)}`;
}
