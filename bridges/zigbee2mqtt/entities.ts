import { buildEntity, fieldTemplate } from '../../discovery/entity-builder.js';
import type {
  DeviceRef,
  DiscoveryConfig,
  DiscoveryContext,
  EntitySpec,
} from '../../discovery/entity.js';
import type { EntityFamily } from '../../discovery/family.js';
import { z2mStateTopic } from './topics.js';
import type { Z2mState } from './watch.js';

/** Fields of the watch's state JSON these entities read (checked against Z2mState). */
export const Z2M_FIELDS = {
  state: 'state',
  devices: 'devices',
  stale: 'stale',
  staleDevices: 'stale_devices',
} as const satisfies Record<string, keyof Z2mState>;

/**
 * ON online, OFF offline, unknown before Zigbee2MQTT said anything (a binary sensor's
 * template rendering `None` leaves it unknown rather than calling it offline).
 */
const BRIDGE_STATE_TEMPLATE =
  `{% set s = value_json.get('${Z2M_FIELDS.state}') %}` +
  "{{ 'ON' if s == 'online' else ('OFF' if s == 'offline' else None) }}";

/**
 * Zigbee2MQTT on the agent's device, from the watch's retained state: the bridge's
 * connectivity (the whole state as attributes: version, coordinator, health), its device
 * count and, with `stale_after`, how many devices went quiet (their names as attributes).
 */
export function z2mEntities(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
  opts: { stale: boolean },
): DiscoveryConfig[] {
  const stateTopic = z2mStateTopic(ctx.root);
  const base = { domain: 'zigbee2mqtt', stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'connectivity',
      key: 'bridge',
      name: 'Zigbee2MQTT',
      valueTemplate: BRIDGE_STATE_TEMPLATE,
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'count',
      key: 'devices',
      name: 'Zigbee2MQTT devices',
      valueTemplate: fieldTemplate(Z2M_FIELDS.devices),
    },
  ];
  if (opts.stale) {
    specs.push({
      ...base,
      kind: 'count',
      key: 'stale_devices',
      name: 'Zigbee2MQTT stale devices',
      valueTemplate: fieldTemplate(Z2M_FIELDS.stale),
      jsonAttributesTopic: stateTopic,
      jsonAttributesTemplate: `{{ {'devices': value_json.${Z2M_FIELDS.staleDevices}} | tojson }}`,
    });
  }
  return specs.map((s) => buildEntity(ctx, agentDevice, s));
}

export function z2mFamily(opts: { stale: boolean }): EntityFamily {
  return {
    name: 'zigbee2mqtt',
    key: opts,
    agent: (ctx, device) => z2mEntities(ctx, device, opts),
  };
}
