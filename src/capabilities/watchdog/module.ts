import { watchdogFamily } from '../../../discovery/entities/watchdog.js';
import { topics } from '../../core/topics.js';
import type { CapabilityModule } from '../capability.js';
import { watchdogFromConfig } from './watchdog.js';

/**
 * The health-gated watchdog (issue 4): tcp / http / command checks, the `healthy` and
 * `uplink` verdicts with their events, the uplink held while an uplink-class check is down
 * (announced on the bus), and the hardware watchdog petted while healthy.
 */
export const watchdogModule: CapabilityModule = {
  name: 'watchdog',
  events: [
    'watchdog_unhealthy',
    'watchdog_recovered',
    'watchdog_reset_pending',
    'uplink_lost',
    'uplink_restored',
  ],
  create(ctx) {
    const section = ctx.config.watchdog;
    if (!section) {
      // Turned off with an outage open: nothing would ever close it.
      for (const i of ctx.incidents.list('watchdog')) ctx.incidents.close(i.kind, i.subject);
      return undefined;
    }
    const watchdog = watchdogFromConfig(section, {
      states: ctx.states,
      stateTopic: topics.watchdog(ctx.root),
      record: (e) => ctx.bus.emit('event', e),
      uplinkChanged: (up) => ctx.bus.emit('uplink', { up }),
      incidents: ctx.incidents,
      clock: ctx.clock,
      log: ctx.log,
      node: ctx.config.node.id,
    });
    const family = watchdogFamily({ petting: section.device.enabled });
    return {
      name: 'watchdog',
      components: [watchdog],
      entities: () => family,
      health: { path: 'watchdog', report: () => watchdog.state() },
    };
  },
  entities: (config) =>
    config.watchdog && watchdogFamily({ petting: config.watchdog.device.enabled }),
};
