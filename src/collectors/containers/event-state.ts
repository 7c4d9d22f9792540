import type { EngineEvent } from '../../hosts/engine-events.js';
import type { ContainerObservation } from './types.js';

/**
 * A container's state read off its engine event, before any inspect (issue #15). podman
 * delivers its events in bursts (it tails a file) and answers an inspect only once it holds
 * the container's lock, which its `cleanup` process takes right after a `die`: a state that
 * waited for that inspect arrived up to ~200 ms after the event line itself. The event
 * already says what changed; the inspect that follows it fills in the rest (restart count,
 * exact times, health after a start), and `inspectSupersedes` keeps an inspect that
 * predates the event from overwriting it.
 *
 * The other way round, an inspect can run ahead of the stream (podman's lines come up to
 * ~250 ms late): an event older than the last start or finish the agent already knows,
 * or one that would not change the state, is left to its inspect too, so a late line
 * never puts an older state back. (A pause, unpause or health change leaves no time in
 * inspect: such a late line can show for as long as its burst lasts, until the next line.)
 *
 * The words are the same on dockerd and on podman's Docker-compatible API (TESTING.md
 * "The two engines' events differ"). `stop` is left to the `die` beside it: docker sends
 * it after its `die`, podman may send it before its `died`, and it carries no exit code,
 * so an exited state read off it would lack one (a `die` without its code is left to the
 * inspect for the same reason). `kill` is only a signal (the container may live on);
 * `restart`, `create`, `init`, `cleanup`, `rename` and `update` say nothing certain about
 * the state: those are left to the inspect too.
 */
export function stateFromEvent(
  prev: ContainerObservation,
  e: EngineEvent,
  now: number,
): ContainerObservation | undefined {
  if (e.timeNano / 1e6 < lastChange(prev)) return undefined;
  const at = isoOf(e.timeNano);
  let next: ContainerObservation;
  switch (e.action) {
    case 'start':
      next = {
        ...prev,
        state: 'running',
        // A healthcheck starts over with each run (Docker and podman say `starting`).
        health: prev.health === 'none' ? 'none' : 'starting',
        // What inspect says of a running container: 0, or nothing if it never exited.
        exitCode: prev.finishedAt === null ? null : 0,
        startedAt: at,
        uptimeMs: 0,
        oomKilled: false,
        error: null,
      };
      break;
    case 'die':
      // Without its exit code the state would say less than the inspect will: left to it.
      if (e.exitCode === undefined) return undefined;
      next = { ...prev, state: 'exited', exitCode: e.exitCode, finishedAt: at, uptimeMs: null };
      break;
    case 'pause':
      next = { ...prev, state: 'paused' };
      break;
    case 'unpause':
      next = { ...prev, state: 'running' };
      break;
    case 'oom':
      next = { ...prev, oomKilled: true };
      break;
    case 'health_status':
      if (e.health === undefined) return undefined;
      next = { ...prev, health: e.health };
      break;
    default:
      return undefined;
  }
  if (sameState(prev, next)) return undefined;
  return { ...next, observedAt: now };
}

/** The seq and engine time of the event a state was last read off. */
export interface EventMark {
  /** The collector's sequence number of the event (every event and inspect takes one). */
  readonly seq: number;
  /** The engine's time of the event, ns since the epoch. */
  readonly timeNano: number;
}

/**
 * Whether an inspect answer may replace a state read off an event: always when the
 * inspect was begun after the event reached the agent (`began`: the sequence number when
 * its request went out), since an engine reports an event only once the change is made.
 * An inspect begun before it may predate the event, and wins only when its own times show
 * a later start or finish than the event: a pause or a health change leaves no time, so
 * such an answer is dropped, and the inspect the event itself queued fills the details.
 */
export function inspectSupersedes(
  inspect: ContainerObservation,
  began: number,
  event: EventMark,
): boolean {
  if (began >= event.seq) return true;
  return lastChange(inspect) > event.timeNano / 1e6;
}

/**
 * Whether the event changes nothing a state machine reads: a start of a running
 * container, a die of an exited one (its exact finish comes with the inspect).
 */
function sameState(a: ContainerObservation, b: ContainerObservation): boolean {
  return a.state === b.state && a.health === b.health && a.oomKilled === b.oomKilled;
}

/** The container's last start or finish, ms since the epoch. */
function lastChange(o: ContainerObservation): number {
  return Math.max(timeOf(o.startedAt), timeOf(o.finishedAt));
}

/** An engine's ns time → ISO 8601, to the nearest ms (what a Date keeps). */
function isoOf(timeNano: number): string {
  return new Date(Math.round(timeNano / 1e6)).toISOString();
}

/** ms since the epoch; -Infinity for never. */
function timeOf(iso: string | null): number {
  if (iso === null) return -Infinity;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? -Infinity : t;
}
