import { OFFLINE, ONLINE, topics } from '../../src/core/topics.js';
import { buildEntity, field, fieldTemplate, onOffTemplate } from '../entity-builder.js';
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
  /** Other retained topics of the host (its maintenance state), cleared with it. */
  alsoOwns: readonly string[] = [],
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
      ownedStateTopics: [stateTopic, ...alsoOwns],
      options: { payload_on: ONLINE, payload_off: OFFLINE },
    }),
  ];
}

/** Fields of the host state JSON (`topics.host`) these entities read. */
export const HOST_FIELDS = {
  running: 'running',
  stopped: 'stopped',
  unhealthy: 'unhealthy',
  criticalDown: 'critical_down',
} as const;

/**
 * Container totals of a watched host and a `problem` sensor that is on while a critical
 * container has been down past `containers.down_after`. They sit on the host's device, so
 * they go unavailable with the host rather than reading "off".
 */
export function hostContainerEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  host: string,
): DiscoveryConfig[] {
  const stateTopic = topics.host(ctx.root, host);
  const base = { domain: 'host', stateTopic, ownedStateTopics: [stateTopic] };
  const count = (key: keyof typeof HOST_FIELDS, name: string) =>
    buildEntity(ctx, hostDevice, {
      ...base,
      kind: 'count',
      key: `containers_${HOST_FIELDS[key]}`,
      name,
      valueTemplate: fieldTemplate(HOST_FIELDS[key]),
    });
  return [
    buildEntity(ctx, hostDevice, {
      ...base,
      kind: 'problem',
      key: 'critical_container_down',
      name: 'Critical container down',
      valueTemplate: onOffTemplate(field(HOST_FIELDS.criticalDown)),
      jsonAttributesTopic: stateTopic,
    }),
    count('running', 'Containers running'),
    count('stopped', 'Containers stopped'),
    count('unhealthy', 'Containers unhealthy'),
  ];
}
