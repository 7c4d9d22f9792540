import { topics } from '../../src/core/topics.js';
import { buildEntity, enumTemplate, fieldTemplate } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';

/** A configured backup job. */
export interface BackupDescription {
  readonly job: string;
  readonly displayName?: string;
}

/** Fields of the backup state JSON these entities read. */
export const BACKUP_FIELDS = {
  status: 'status',
  lastSuccess: 'last_success',
  duration: 'duration',
  size: 'size',
} as const;
export const BACKUP_STATUSES = ['ok', 'failed', 'stale', 'running'] as const;

/**
 * Status, last success, duration and size of one job, and a run-now button. `device` is
 * the device of the host the job runs on (or the agent device).
 */
export function backupEntities(
  ctx: DiscoveryContext,
  device: DeviceRef,
  b: BackupDescription,
): DiscoveryConfig[] {
  const label = `Backup ${b.displayName ?? b.job}`;
  const stateTopic = topics.backup(ctx.root, b.job);
  const base = { domain: 'backup', subject: b.job, stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'status',
      key: 'status',
      name: `${label} status`,
      valueTemplate: enumTemplate(BACKUP_FIELDS.status, BACKUP_STATUSES),
      options: { options: [...BACKUP_STATUSES] },
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'timestamp',
      key: 'last_success',
      name: `${label} last success`,
      valueTemplate: fieldTemplate(BACKUP_FIELDS.lastSuccess),
    },
    {
      ...base,
      kind: 'duration_s',
      key: 'duration',
      name: `${label} duration`,
      valueTemplate: fieldTemplate(BACKUP_FIELDS.duration),
      entityCategory: 'diagnostic',
    },
    {
      ...base,
      kind: 'bytes',
      key: 'size',
      name: `${label} size`,
      valueTemplate: fieldTemplate(BACKUP_FIELDS.size),
      entityCategory: 'diagnostic',
    },
    {
      kind: 'button_run',
      domain: 'backup',
      subject: b.job,
      key: 'run',
      name: `${label} run now`,
      commandTopic: topics.command(ctx.root, 'run_backup'),
      options: { payload_press: JSON.stringify({ job: b.job }) },
    },
  ];
  return specs.map((s) => buildEntity(ctx, device, s));
}
