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

/**
 * Home Assistant's health as the bridge sees it, read from its retained state: the link
 * (with the whole state as attributes: versions, lists of failed integrations, unavailable
 * entities and updates), and one entity per check. They sit on the agent's device, named
 * "Home Assistant …", beside the uplink's: the agent is what watches HA.
 */
export function homeAssistantEntities(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
): DiscoveryConfig[] {
  const stateTopic = topics.homeAssistant(ctx.root);
  const base = { domain: 'home_assistant', stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'connectivity',
      key: 'link',
      name: 'Home Assistant link',
      valueTemplate: onOffTemplate(field(HA_FIELDS.connected)),
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'count',
      key: 'failed_integrations',
      name: 'Home Assistant failed integrations',
      valueTemplate: fieldTemplate(HA_FIELDS.failedIntegrations),
    },
    {
      ...base,
      kind: 'count',
      key: 'unavailable_entities',
      name: 'Home Assistant unavailable entities',
      valueTemplate: fieldTemplate(HA_FIELDS.unavailable),
    },
    {
      ...base,
      kind: 'count',
      key: 'updates',
      name: 'Home Assistant updates',
      valueTemplate: fieldTemplate(HA_FIELDS.updates),
    },
    {
      ...base,
      kind: 'running',
      key: 'restarting',
      name: 'Home Assistant restarting',
      valueTemplate: onOffTemplate(field(HA_FIELDS.restarting)),
      entityCategory: 'diagnostic',
    },
  ];
  return specs.map((s) => buildEntity(ctx, agentDevice, s));
}

/** The bridge's family: its entities on the agent's device. */
export const homeAssistantFamily: EntityFamily = {
  name: 'home_assistant',
  key: true,
  agent: homeAssistantEntities,
};
