import { containersFamily, type WatchedHost } from '../../../discovery/entities/containers.js';
import { containerExecutor } from '../../commands/executors/from-config.js';
import type { Config } from '../../config/schema.js';
import type { CapabilityModule } from '../capability.js';
import { ContainerMonitoring } from './monitoring.js';

/**
 * Containers (issue 5): every host with an `engine` is watched through its engine API or,
 * over SSH, its CLI. States per container and per host, down / recovered / unhealthy
 * events with hysteresis, entities per container, restarts for remediation, and the
 * services report at `GET /api/health/services`.
 */
export const containersModule: CapabilityModule = {
  name: 'containers',
  events: [
    'container_down',
    'container_recovered',
    'container_unhealthy',
    'host_unreachable',
    'host_reachable',
  ],
  create(ctx) {
    const monitoring = new ContainerMonitoring(ctx);
    const { config } = ctx;
    return {
      name: 'containers',
      components: monitoring.components,
      entities: () =>
        containersFamily(
          watchedHosts(config).map((id) => ({ id, containers: monitoring.containersOf(id) })),
        ),
      // Over the SSH connection each host's collector keeps: one per host, not two.
      executors: [
        containerExecutor(config, {
          clock: ctx.clock,
          log: ctx.log,
          runnerFor: (host) => monitoring.runnerFor(host),
          // A command on a container not last seen there is refused at once (issue 14).
          observed: (host) => monitoring.observedNames(host),
        }),
      ],
      health: { path: 'services', report: () => monitoring.tracker.servicesReport() },
      stop: () => monitoring.stop(),
    };
  },
  entities: (config) =>
    containersFamily(watchedHosts(config).map((id): WatchedHost => ({ id, containers: [] }))),
};

/** The hosts whose containers are watched: those with an `engine`. */
function watchedHosts(config: Config): string[] {
  return config.hosts.filter((h) => h.engine !== undefined).map((h) => h.id);
}
