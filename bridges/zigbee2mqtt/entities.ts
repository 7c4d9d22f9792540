import { buildEntity, fieldTemplate } from '../../discovery/entity-builder.js';
import type {
  DeviceRef,
  DiscoveryConfig,
  DiscoveryContext,
  EntitySpec,
} from '../../discovery/entity.js';
import type { EntityFamily } from '../../discovery/family.js';
import type { ServiceInfo } from '../../discovery/device.js';
import type { TopicRoot } from '../../src/core/topics.js';
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

/** The "Zigbee2MQTT" device's id: its identifiers are `outpost_<node>_service_zigbee2mqtt`. */
export const Z2M_SERVICE_ID = 'zigbee2mqtt';

/** What the device shows of the Zigbee2MQTT the watch follows, from its `bridge/info`. */
export interface Z2mDeviceInfo {
  readonly version?: string;
  /** The coordinator's type (`zStack3x0`, `ember`), as the device's model. */
  readonly coordinator?: string;
}

/**
 * The device: reached through the agent, reachable unless Zigbee2MQTT said it is offline
 * (its device count is then the last one it gave, not a current one).
 */
export function z2mService(root: TopicRoot, info: Z2mDeviceInfo): ServiceInfo {
  return {
    id: Z2M_SERVICE_ID,
    name: 'Zigbee2MQTT',
    manufacturer: 'Zigbee2MQTT',
    model: info.coordinator !== undefined ? `Zigbee2MQTT (${info.coordinator})` : 'Zigbee2MQTT',
    ...(info.version !== undefined ? { swVersion: info.version } : {}),
    reachability: {
      topic: z2mStateTopic(root),
      value_template: `{{ 'offline' if value_json.get('${Z2M_FIELDS.state}') == 'offline' else 'online' }}`,
      payload_available: 'online',
      payload_not_available: 'offline',
    },
  };
}

/**
 * Zigbee2MQTT on a device of its own, from the watch's retained state: the bridge's
 * connectivity (the whole state as attributes: version, coordinator, health; available
 * with the agent alone, since it is what says Zigbee2MQTT is offline), its device count
 * and, with `stale_after`, how many devices went quiet (their names as attributes).
 * Unique ids are those they had on the agent's device.
 */
export function z2mEntities(
  ctx: DiscoveryContext,
  device: DeviceRef,
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
      name: 'Bridge',
      valueTemplate: BRIDGE_STATE_TEMPLATE,
      jsonAttributesTopic: stateTopic,
      availability: agentDevice.availability,
    },
    {
      ...base,
      kind: 'count',
      key: 'devices',
      name: 'Devices',
      valueTemplate: fieldTemplate(Z2M_FIELDS.devices),
    },
  ];
  if (opts.stale) {
    specs.push({
      ...base,
      kind: 'count',
      key: 'stale_devices',
      name: 'Stale devices',
      valueTemplate: fieldTemplate(Z2M_FIELDS.stale),
      jsonAttributesTopic: stateTopic,
      jsonAttributesTemplate: `{{ {'devices': value_json.${Z2M_FIELDS.staleDevices}} | tojson }}`,
    });
  }
  return specs.map((s) => buildEntity(ctx, device, s));
}

/** The watch's family: its entities on a "Zigbee2MQTT" device of their own. */
export function z2mFamily(
  root: TopicRoot,
  opts: { stale: boolean },
  info: Z2mDeviceInfo = {},
): EntityFamily {
  const service = z2mService(root, info);
  return {
    name: 'zigbee2mqtt',
    key: [opts, service],
    services: [
      {
        service,
        key: opts,
        entities: (ctx, device, agent) => z2mEntities(ctx, device, agent, opts),
      },
    ],
  };
}
