import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import type { ContainerView } from '../../../src/state/container-view.js';

/**
 * A critical container on host `local` as the tracker hands it to remediation. `key` is the
 * incident's subject; it defaults to `name`, and differs for a compose service's container.
 */
export function containerView(
  name: string,
  state: 'running' | 'exited',
  opts: { key?: string; alert?: ContainerView['alert'] } = {},
): ContainerView {
  const observation: ContainerObservation = {
    host: 'local',
    key: opts.key ?? name,
    id: 'a'.repeat(64),
    name,
    image: 'busybox',
    state,
    health: 'none',
    exitCode: state === 'running' ? null : 1,
    restartCount: 0,
    startedAt: null,
    finishedAt: null,
    uptimeMs: null,
    oomKilled: false,
    error: null,
    labels: {},
    critical: true,
    observedAt: 0,
  };
  return { observation, alert: opts.alert ?? 'ok' };
}
