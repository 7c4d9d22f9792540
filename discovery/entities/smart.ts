import { topics } from '../../src/core/topics.js';
import { buildEntity, field, fieldTemplate, onOffTemplate } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';

/** A drive SMART reports on, on a host. */
export interface SmartDriveDescription {
  readonly host: string;
  /** Its id token (`sda`, `nvme0`): entity ids and state topic. */
  readonly key: string;
  /** As smartctl names it (`/dev/sda`), for people. */
  readonly name: string;
}

/** Fields of the SMART state JSON these entities read. */
export const SMART_FIELDS = {
  problem: 'problem',
  temperature: 'temperature_c',
  reallocated: 'reallocated',
  pending: 'pending',
  powerOnHours: 'power_on_hours',
} as const;

/**
 * A drive's health problem (failed verdict or reallocating), temperature, reallocated and
 * pending sectors and power-on hours, on its host's device (issue #16).
 */
export function smartEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  d: SmartDriveDescription,
): DiscoveryConfig[] {
  const stateTopic = topics.smart(ctx.root, d.host, d.key);
  const base = { domain: 'smart', subject: d.key, stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'problem',
      key: 'problem',
      name: `${d.name} health problem`,
      valueTemplate: onOffTemplate(`${field(SMART_FIELDS.problem)} == true`),
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'temperature',
      key: 'temperature',
      name: `${d.name} temperature`,
      valueTemplate: fieldTemplate(SMART_FIELDS.temperature),
    },
    {
      ...base,
      kind: 'count',
      key: 'reallocated',
      name: `${d.name} reallocated sectors`,
      valueTemplate: fieldTemplate(SMART_FIELDS.reallocated),
      icon: 'mdi:harddisk-remove',
    },
    {
      ...base,
      kind: 'count',
      key: 'pending',
      name: `${d.name} pending sectors`,
      valueTemplate: fieldTemplate(SMART_FIELDS.pending),
      icon: 'mdi:harddisk-remove',
    },
    {
      ...base,
      kind: 'duration_h',
      key: 'power_on_hours',
      name: `${d.name} power-on time`,
      valueTemplate: fieldTemplate(SMART_FIELDS.powerOnHours),
      entityCategory: 'diagnostic',
    },
  ];
  return specs.map((s) => buildEntity(ctx, hostDevice, s));
}
