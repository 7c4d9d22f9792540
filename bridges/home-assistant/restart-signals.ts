import type { Logger } from '../../src/core/logger.js';
import type { ActionStep, AgentBus, AgentEvents } from '../../src/state/bus-events.js';
import type { RestartWindow } from './restart-window.js';

/** The bus owner of the bridge's listeners. */
const OWNER = 'home-assistant';

/** The actions that take HA's container down on purpose. */
const CONTAINER_ACTIONS = new Set(['restart_container', 'stop_container', 'start_container']);

export interface RestartSignalsOptions {
  readonly bus: AgentBus;
  /** HA's container, `<host>/<name>` (`home_assistant.container`). */
  readonly target: string;
  readonly window: RestartWindow;
  now(): number;
  readonly log: Logger;
  /** The window may have changed: the retained state is published again. */
  changed(): void;
}

/**
 * What on the agent's bus says HA's container is restarted on purpose (issue 18, point 2):
 *
 * - outpost's own action on it (`action`): its decision is recorded before it runs, so
 *   the window opens as the action starts, before HA goes silent, however long HA takes
 *   to stop. Self-healing's restarts are left out: they answer an outage, which the
 *   container's own incident reports.
 * - the container monitor (`container`): a new start time with the engine's restart count
 *   unchanged, or a clean stop, for a restart done outside outpost (docker restart,
 *   compose up). It is seen only once the container runs again.
 */
export function listenForContainerRestarts(o: RestartSignalsOptions): void {
  o.bus.on(OWNER, 'action', (a: ActionStep) => {
    if (a.target !== o.target || !CONTAINER_ACTIONS.has(a.action) || a.origin === 'self_heal') {
      return;
    }
    const now = o.now();
    if (a.status === 'running') {
      o.log.info(
        { container: o.target, action: a.id },
        `Home Assistant's container: ${a.action} started, its health checks pause`,
      );
      o.window.actionStarted(now, a.until ?? now);
    } else {
      o.window.actionEnded(now);
    }
    o.changed();
  });
  let last: { startedAt: string | null; restarts: number; running: boolean } | undefined;
  o.bus.on(OWNER, 'container', (c: AgentEvents['container']) => {
    const v = c.view?.observation;
    if (!v || (`${c.host}/${v.name}` !== o.target && `${c.host}/${c.key}` !== o.target)) return;
    const running = v.state === 'running';
    const seen = { startedAt: v.startedAt, restarts: v.restartCount, running };
    // Started again without the engine counting a crash restart, or stopped cleanly:
    // someone restarted it on purpose (docker restart, compose up, an outpost action).
    const restarted =
      last !== undefined &&
      running &&
      v.startedAt !== last.startedAt &&
      v.restartCount === last.restarts;
    const stopped = last?.running === true && !running && v.exitCode === 0;
    last = seen;
    if (!restarted && !stopped) return;
    o.log.info({ container: o.target }, 'Home Assistant container restarted on purpose');
    const now = o.now();
    o.window.stopping(now);
    if (restarted) o.window.started(now);
    o.changed();
  });
}
