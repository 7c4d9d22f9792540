import { topics } from '../../src/core/topics.js';
import {
  buildEntity,
  enumTemplate,
  field,
  fieldTemplate,
  onOffTemplate,
} from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';
import type { EntityFamily } from '../family.js';

/** A configured backup job. */
export interface BackupDescription {
  readonly job: string;
  readonly displayName?: string;
  /** The agent runs it (it has a command): it gets a "Run now" button. Default true. */
  readonly runnable?: boolean;
}

/** Fields of the backup state JSON these entities read. */
export const BACKUP_FIELDS = {
  status: 'status',
  lastSuccess: 'last_success',
  lastRun: 'last_run',
  duration: 'duration',
  size: 'size',
  problem: 'problem',
} as const;
/** A job's status (issue #17): `never_run` until its first outcome. */
export const BACKUP_STATUSES = ['ok', 'running', 'failed', 'late', 'never_run'] as const;

/**
 * Status, last success, last run, duration, size and problem flag of one job, and a
 * run-now button for a job the agent runs. `device` is the device of the host the job
 * runs on (or the agent device).
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
      kind: 'timestamp',
      key: 'last_run',
      name: `${label} last run`,
      valueTemplate: fieldTemplate(BACKUP_FIELDS.lastRun),
    },
    {
      ...base,
      kind: 'problem',
      key: 'problem',
      name: `${label} problem`,
      valueTemplate: onOffTemplate(`${field(BACKUP_FIELDS.problem)} == true`),
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
  ];
  if (b.runnable !== false) {
    specs.push({
      kind: 'button_run',
      domain: 'backup',
      subject: b.job,
      key: 'run',
      name: `${label} run now`,
      commandTopic: topics.command(ctx.root, 'run_backup'),
      // The command payload's shape (src/commands/payloads.ts): the job is the target.
      options: { payload_press: JSON.stringify({ target: b.job }) },
    });
  }
  return specs.map((s) => buildEntity(ctx, device, s));
}

/** A job as the family places it: on its host's device, or the agent's. */
export interface PlacedBackup extends BackupDescription {
  /** A host id with a device, or undefined for the agent's device. */
  readonly host: string | undefined;
}

/** The backups family: each job on its host's device, or the agent's. */
export function backupsFamily(jobs: readonly PlacedBackup[]): EntityFamily {
  const onAgent = jobs.filter((j) => j.host === undefined);
  return {
    name: 'backups',
    key: jobs,
    agentKey: onAgent,
    hostKey: (host) => jobs.filter((j) => j.host === host),
    agent: (ctx, device) => onAgent.flatMap((j) => backupEntities(ctx, device, j)),
    host: (ctx, device, host) =>
      jobs.filter((j) => j.host === host).flatMap((j) => backupEntities(ctx, device, j)),
  };
}
