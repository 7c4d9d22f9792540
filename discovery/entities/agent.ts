import { OFFLINE, ONLINE, topics } from '../../src/core/topics.js';
import { buildEntity } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext } from '../entity.js';
import { alertTypes, alertEventTemplate } from './event-types.js';

/**
 * The agent's own entities: its connectivity (read straight from its availability topic,
 * which is also its MQTT last will, so it turns off when the agent dies) and an event
 * entity carrying every alert the agent raises (the known ones, and any other type a
 * capability declares in `raised`).
 */
export function agentEntities(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
  raised: readonly string[] = [],
): DiscoveryConfig[] {
  const types = alertTypes(raised);
  return [
    buildEntity(ctx, agentDevice, {
      kind: 'connectivity',
      domain: 'agent',
      key: 'connectivity',
      name: 'Connectivity',
      stateTopic: topics.availability(ctx.root),
      options: { payload_on: ONLINE, payload_off: OFFLINE },
      entityCategory: 'diagnostic',
      // Its state is the availability topic: with availability set it would show
      // "unavailable" instead of "disconnected" when the agent goes away.
      withAvailability: false,
    }),
    buildEntity(ctx, agentDevice, {
      kind: 'event_alert',
      domain: 'agent',
      key: 'alerts',
      name: 'Alerts',
      stateTopic: topics.events(ctx.root),
      valueTemplate: alertEventTemplate(types),
      options: { event_types: types },
    }),
  ];
}
