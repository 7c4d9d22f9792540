import {
  buildEntity,
  field,
  fieldTemplate,
  onOffTemplate,
} from '../../discovery/entity-builder.js';
import type {
  DeviceRef,
  DiscoveryConfig,
  DiscoveryContext,
  EntitySpec,
} from '../../discovery/entity.js';
import type { EntityFamily } from '../../discovery/family.js';
import { uplinkStateTopic } from './topic-map.js';
import type { UplinkState } from './uplink-bridge.js';

/** Fields of the uplink state JSON these entities read (checked against UplinkState). */
export const UPLINK_FIELDS = {
  connected: 'connected',
  backlog: 'backlog',
  oldestAge: 'oldest_unsent_age_s',
} as const satisfies Record<string, keyof UplinkState>;

/**
 * The uplink on the agent device, read from its retained state `<base>/<node>/uplink`:
 * whether it is connected (with the whole state, `paused` included, as attributes), how many
 * events wait for the central broker, and how old the oldest of them is.
 */
export function uplinkEntities(ctx: DiscoveryContext, agentDevice: DeviceRef): DiscoveryConfig[] {
  const stateTopic = uplinkStateTopic(ctx.root);
  const base = { domain: 'uplink', stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'connectivity',
      key: 'connected',
      name: 'Uplink',
      valueTemplate: onOffTemplate(field(UPLINK_FIELDS.connected)),
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'count',
      key: 'backlog',
      name: 'Uplink backlog',
      valueTemplate: fieldTemplate(UPLINK_FIELDS.backlog),
      entityCategory: 'diagnostic',
    },
    {
      ...base,
      kind: 'duration_s',
      key: 'oldest_unsent_age',
      name: 'Uplink oldest unsent',
      valueTemplate: fieldTemplate(UPLINK_FIELDS.oldestAge),
      entityCategory: 'diagnostic',
    },
  ];
  return specs.map((s) => buildEntity(ctx, agentDevice, s));
}

/** The uplink family: its entities on the agent's device. */
export const uplinkFamily: EntityFamily = {
  name: 'uplink',
  key: true,
  agent: uplinkEntities,
};
