import type { CapabilityModule } from '../../src/capabilities/capability.js';
import { topicRoot } from '../../src/mqtt/link-options.js';
import { z2mFamily, type Z2mDeviceInfo } from './entities.js';
import { z2mStateTopic } from './topics.js';
import { Z2M_EVENTS, Z2M_KIND } from './kinds.js';

/**
 * The Zigbee2MQTT watch (issue 19): the coordinator's state on the site's broker, an
 * incident when it stays offline, entities for its state and devices. Its container, when
 * a watched host runs it, is a remediation target like any other (docs/zigbee2mqtt.md).
 */
export const zigbee2mqttModule: CapabilityModule = {
  name: 'zigbee2mqtt',
  events: [...Z2M_EVENTS],
  async create(ctx) {
    const section = ctx.config.zigbee2mqtt;
    if (!section) {
      // Turned off with an outage open: nothing would ever close it.
      for (const i of ctx.incidents.list(Z2M_KIND)) ctx.incidents.close(i.kind, i.subject);
      return undefined;
    }
    const log = ctx.log.child({ capability: 'zigbee2mqtt' });
    if (!ctx.mqtt) {
      log.warn('Zigbee2MQTT watch off: no MQTT link');
      return undefined;
    }
    const { Z2mWatch } = await import('./watch.js');
    const topic = z2mStateTopic(ctx.root);
    const watch = new Z2mWatch({
      config: section,
      mqtt: ctx.mqtt,
      publish: (s) => void ctx.states.set(topic, s),
      record: (e) => ctx.bus.emit('event', e),
      incidents: ctx.incidents,
      // The "Zigbee2MQTT" device shows the version and coordinator: a discovery round.
      infoChanged: () => ctx.bus.emit('observed', { complete: false }),
      clock: ctx.clock,
      log,
    });
    const opts = { stale: section.stale_after !== undefined };
    const info = (): Z2mDeviceInfo => {
      const { version, coordinator } = watch.state();
      return {
        ...(version !== null ? { version } : {}),
        ...(coordinator !== null ? { coordinator } : {}),
      };
    };
    return {
      name: 'zigbee2mqtt',
      components: [watch],
      entities: () => z2mFamily(ctx.root, opts, info()),
      health: { path: 'zigbee2mqtt', report: () => watch.state() },
    };
  },
  entities: (config) =>
    config.zigbee2mqtt &&
    z2mFamily(topicRoot(config), { stale: config.zigbee2mqtt.stale_after !== undefined }),
};
