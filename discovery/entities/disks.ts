import { topics } from '../../src/core/topics.js';
import { buildEntity, enumTemplate, fieldTemplate } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';

/** A mounted filesystem on a host. */
export interface DiskDescription {
  readonly host: string;
  readonly mount: string;
  readonly displayName?: string;
}

/** Fields of the disk state JSON these entities read. */
export const DISK_FIELDS = { usedPct: 'used_pct', free: 'free', level: 'level' } as const;
export const DISK_LEVELS = ['ok', 'warn', 'critical'] as const;

/** Used %, free bytes and the ok / warn / critical level of one mount. */
export function diskEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  d: DiskDescription,
): DiscoveryConfig[] {
  const label = d.displayName ?? d.mount;
  const stateTopic = topics.disk(ctx.root, d.host, d.mount);
  // Mounts are absolute, so the leading slash carries nothing and would only force a hash.
  const subject = d.mount === '/' ? d.mount : d.mount.replace(/^\/+/, '');
  const base = { domain: 'disk', subject, stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'percent',
      key: 'used_pct',
      name: `${label} used`,
      valueTemplate: fieldTemplate(DISK_FIELDS.usedPct),
      icon: 'mdi:harddisk',
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'bytes',
      key: 'free',
      name: `${label} free`,
      valueTemplate: fieldTemplate(DISK_FIELDS.free),
    },
    {
      ...base,
      kind: 'level',
      key: 'level',
      name: `${label} level`,
      valueTemplate: enumTemplate(DISK_FIELDS.level, DISK_LEVELS),
      options: { options: [...DISK_LEVELS] },
    },
  ];
  return specs.map((s) => buildEntity(ctx, hostDevice, s));
}
