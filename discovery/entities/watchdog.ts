import { topics } from '../../src/core/topics.js';
import { buildEntity, field, fieldTemplate, onOffTemplate } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';
import type { EntityFamily } from '../family.js';

/** Fields of the watchdog state JSON these entities read. */
export const WATCHDOG_FIELDS = {
  healthy: 'healthy',
  petting: 'petting',
  lastPet: 'last_pet',
} as const;

/**
 * The health-gated watchdog, on the agent device: a problem sensor (with every check's
 * result as attributes) and, where a hardware watchdog is petted, whether it is being
 * petted and the last pet.
 */
export function watchdogEntities(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
  opts: { petting?: boolean } = {},
): DiscoveryConfig[] {
  const stateTopic = topics.watchdog(ctx.root);
  const base = { domain: 'watchdog', stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'problem',
      key: 'problem',
      name: 'Watchdog',
      valueTemplate: onOffTemplate(`not ${field(WATCHDOG_FIELDS.healthy)}`),
      jsonAttributesTopic: stateTopic,
    },
  ];
  // Without a device to pet, petting and its last time would only ever read off / unknown.
  if (opts.petting === false) return specs.map((s) => buildEntity(ctx, agentDevice, s));
  specs.push(
    {
      ...base,
      kind: 'running',
      key: 'petting',
      name: 'Watchdog petting',
      valueTemplate: onOffTemplate(field(WATCHDOG_FIELDS.petting)),
      entityCategory: 'diagnostic',
    },
    {
      ...base,
      kind: 'timestamp',
      key: 'last_pet',
      name: 'Watchdog last pet',
      valueTemplate: fieldTemplate(WATCHDOG_FIELDS.lastPet),
      entityCategory: 'diagnostic',
    },
  );
  return specs.map((s) => buildEntity(ctx, agentDevice, s));
}

/** The watchdog family: its entities on the agent's device. */
export function watchdogFamily(opts: { petting: boolean }): EntityFamily {
  return {
    name: 'watchdog',
    key: opts,
    agent: (ctx, device) => watchdogEntities(ctx, device, opts),
  };
}
