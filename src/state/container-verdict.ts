import type { ContainerObservation } from '../collectors/containers/types.js';
import type { Condition } from './hysteresis.js';

/** What a critical container's observation says, before hysteresis. */
export interface Verdict {
  readonly condition: Condition;
  /** Since when it holds (a stopped container since it finished). */
  readonly since: number;
  /** Running again but not yet for `stable_after`: look again then. */
  readonly settleAt?: number;
}

/**
 * What a critical container's observation says (issue #14): down while it is not running
 * *or not staying up* — restarting, or running for less than `stable_after` since a start
 * that followed a stop — so a crash loop under a restart policy is one outage, not a
 * down / recovered pair per crash. `hold` for a container created but never started (a
 * deployment in progress is not an outage: it counts once it has started); undefined for
 * a container that is not critical (state only, no alerts).
 *
 * `prev` is the container's previous observation, `was` its condition then.
 */
export function verdictOf(
  o: ContainerObservation,
  prev: ContainerObservation | undefined,
  was: Condition | undefined,
  now: number,
  stableAfterMs: number,
): Verdict | 'hold' | undefined {
  if (!o.critical) return undefined;
  if (o.state === 'created' && o.startedAt === null) return 'hold';
  const finished = timeOf(o.finishedAt);
  if (o.state !== 'running') return { condition: 'down', since: finished ?? now };
  const started = timeOf(o.startedAt);
  if (started !== undefined && now - started < stableAfterMs && restarted(o, prev, was)) {
    return { condition: 'down', since: finished ?? started, settleAt: started + stableAfterMs };
  }
  const condition = o.health === 'unhealthy' ? 'unhealthy' : 'ok';
  // Back from down: up since its start, which already lasted stable_after. Healthy again
  // after unhealthy: from now, so a healthcheck that flips closes nothing at once.
  const since = condition === 'ok' && was === 'down' && started !== undefined ? started : now;
  return { condition, since };
}

/** Whether this run of the container follows a stop: it is not up until it stays up. */
function restarted(
  o: ContainerObservation,
  prev: ContainerObservation | undefined,
  was: Condition | undefined,
): boolean {
  if (was === 'down') return true;
  // Started again between two observations of the same container (a crash and a restart
  // by the engine between two polls); a re-created container is a new one.
  if (prev && prev.id === o.id) return prev.startedAt !== o.startedAt;
  // First sight: the engine's restart policy restarted it lately.
  return !prev && o.restartCount > 0;
}

function timeOf(iso: string | null): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
