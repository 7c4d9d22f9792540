import type { ServiceInfo } from '../../discovery/device.js';
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
import { topics } from '../../src/core/topics.js';
import { HA_FIELDS } from './state.js';

/** The "Home Assistant" device's id: its identifiers are `outpost_<node>_service_home_assistant`. */
export const HA_SERVICE_ID = 'home_assistant';

/** What the device shows of the Home Assistant the bridge reaches. */
export interface HaDeviceInfo {
  /** The websocket API URL from config; the device links to its web UI. */
  readonly url: string;
  /** What Home Assistant said it runs, once it did (`auth_ok`'s `ha_version`). */
  readonly version?: string;
}

/** The web UI of the Home Assistant behind a websocket API URL (ws://h:8123/api/websocket). */
export function haWebUrl(wsUrl: string): string | undefined {
  const m = /^ws(s?):\/\/([^/]+)\//.exec(wsUrl);
  return m ? `http${m[1]}://${m[2]}` : undefined;
}

/**
 * The device: reached through the agent, reachable while the bridge's link is up (its
 * retained state's `connected`), so counts from a Home Assistant out of reach show as
 * unavailable rather than as their last values.
 */
export function haService(root: DiscoveryContext['root'], info: HaDeviceInfo): ServiceInfo {
  const stateTopic = topics.homeAssistant(root);
  const url = haWebUrl(info.url);
  return {
    id: HA_SERVICE_ID,
    name: 'Home Assistant',
    manufacturer: 'Home Assistant',
    model: 'Home Assistant',
    ...(info.version !== undefined ? { swVersion: info.version } : {}),
    ...(url !== undefined ? { configurationUrl: url } : {}),
    reachability: {
      topic: stateTopic,
      value_template: `{{ 'online' if ${field(HA_FIELDS.connected)} else 'offline' }}`,
      payload_available: 'online',
      payload_not_available: 'offline',
    },
  };
}

/**
 * Home Assistant's health as the bridge sees it, read from its retained state: the link
 * (with the whole state as attributes: versions, lists of failed integrations, unavailable
 * entities and updates), and one entity per check, on the "Home Assistant" device. The
 * link and "Restarting" keep the agent's availability alone: they are what says HA is
 * out of reach. Unique ids are those they had on the agent's device.
 */
export function homeAssistantEntities(
  ctx: DiscoveryContext,
  device: DeviceRef,
  agentDevice: DeviceRef,
): DiscoveryConfig[] {
  const stateTopic = topics.homeAssistant(ctx.root);
  const base = { domain: 'home_assistant', stateTopic, ownedStateTopics: [stateTopic] };
  const agentOnly = { availability: agentDevice.availability };
  const specs: EntitySpec[] = [
    {
      ...base,
      ...agentOnly,
      kind: 'connectivity',
      key: 'link',
      name: 'Link',
      valueTemplate: onOffTemplate(field(HA_FIELDS.connected)),
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'count',
      key: 'failed_integrations',
      name: 'Failed integrations',
      valueTemplate: fieldTemplate(HA_FIELDS.failedIntegrations),
    },
    {
      ...base,
      kind: 'count',
      key: 'unavailable_entities',
      name: 'Unavailable entities',
      valueTemplate: fieldTemplate(HA_FIELDS.unavailable),
    },
    {
      ...base,
      kind: 'count',
      key: 'updates',
      name: 'Updates',
      valueTemplate: fieldTemplate(HA_FIELDS.updates),
    },
    {
      ...base,
      ...agentOnly,
      kind: 'running',
      key: 'restarting',
      name: 'Restarting',
      valueTemplate: onOffTemplate(field(HA_FIELDS.restarting)),
      entityCategory: 'diagnostic',
    },
  ];
  return specs.map((s) => buildEntity(ctx, device, s));
}

/** The bridge's family: its entities on a "Home Assistant" device of their own. */
export function homeAssistantFamily(
  root: DiscoveryContext['root'],
  info: HaDeviceInfo,
): EntityFamily {
  const service = haService(root, info);
  return {
    name: 'home_assistant',
    key: service,
    services: [{ service, key: true, entities: homeAssistantEntities }],
  };
}
