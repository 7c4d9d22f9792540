import { OFFLINE, ONLINE, topics } from '../../src/core/topics.js';
import { buildEntity } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext } from '../entity.js';

/**
 * Whether the agent can reach the host. It reads the host's availability topic as its
 * state, so it is available whenever the agent is: "off" then means unreachable rather
 * than unavailable.
 */
export function hostEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  agentDevice: DeviceRef,
  host: string,
): DiscoveryConfig[] {
  const stateTopic = topics.hostAvailability(ctx.root, host);
  const device: DeviceRef = { ...hostDevice, availability: agentDevice.availability };
  return [
    buildEntity(ctx, device, {
      kind: 'connectivity',
      domain: 'host',
      key: 'reachable',
      name: 'Reachable',
      stateTopic,
      ownedStateTopics: [stateTopic],
      options: { payload_on: ONLINE, payload_off: OFFLINE },
    }),
  ];
}
