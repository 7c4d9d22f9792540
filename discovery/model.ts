import { createHash } from 'node:crypto';
import { COMPOSE_SERVICE, containerKey } from '../src/collectors/containers/identity.js';
import { agentDevice, hostDevice, type AgentInfo, type HostInfo } from './device.js';
import type { DiscoveryConfig, DiscoveryContext } from './entity.js';
import { agentEntities } from './entities/agent.js';
import { backupEntities, type BackupDescription } from './entities/backups.js';
import { containerEntities, type ContainerDescription } from './entities/containers.js';
import { diskEntities, type DiskDescription } from './entities/disks.js';
import { hostContainerEntities, hostEntities } from './entities/host.js';
import {
  maintenanceEntities,
  remediationEntities,
  type RemediationDescription,
} from './entities/remediation.js';
import { watchdogEntities } from './entities/watchdog.js';

/** One host and what was last observed on it. */
export interface HostModel extends HostInfo {
  readonly containers?: readonly Omit<ContainerDescription, 'host'>[];
  readonly disks?: readonly Omit<DiskDescription, 'host'>[];
  /** See MaintenanceDescription.stateTopic. */
  readonly maintenanceStateTopic?: string;
  /** The maintenance switch: only where the policy would act on it (default true). */
  readonly offersMaintenance?: boolean;
  /** The host's containers are watched: add its totals and critical-down problem sensor. */
  readonly watchesContainers?: boolean;
}

/** Everything discovery describes: what the agent knows from config and observations. */
export interface DiscoveryModel {
  readonly agent: AgentInfo;
  readonly hosts: readonly HostModel[];
  /** The watchdog's entities; `{ petting: false }` without a hardware watchdog to pet. */
  readonly watchdog?: boolean | { readonly petting: boolean };
  /** `host` puts the job on that host's device; otherwise it sits on the agent device. */
  readonly backups?: readonly (BackupDescription & { readonly host?: string })[];
  readonly remediation?: RemediationDescription | false;
}

/** Every discovery config the model implies, in a stable order. */
export function desiredConfigs(ctx: DiscoveryContext, model: DiscoveryModel): DiscoveryConfig[] {
  return [...desiredDevices(ctx, model)].flat();
}

/**
 * The same configs, one device at a time (the agent's first, then each host's), built as
 * they are read: a caller walking 5,000 containers holds one host's configs, not all.
 */
export function* desiredDevices(
  ctx: DiscoveryContext,
  model: DiscoveryModel,
): Generator<DiscoveryConfig[]> {
  const agent = agentDevice(ctx.root, model.agent);
  const remediation = model.remediation !== false && model.remediation !== undefined;
  const hostIds = new Set(model.hosts.map((h) => h.id));
  const backupsOn = (host: string | undefined) =>
    (model.backups ?? []).filter((b) =>
      host === undefined ? b.host === undefined || !hostIds.has(b.host) : b.host === host,
    );

  const own = agentEntities(ctx, agent);
  if (model.watchdog) {
    const petting = model.watchdog === true || model.watchdog.petting;
    own.push(...watchdogEntities(ctx, agent, { petting }));
  }
  for (const b of backupsOn(undefined)) own.push(...backupEntities(ctx, agent, b));
  if (model.remediation !== false && model.remediation !== undefined) {
    own.push(...remediationEntities(ctx, agent, model.remediation));
  }
  yield own;

  for (const h of model.hosts) {
    const device = hostDevice(ctx.root, model.agent, h);
    const maintenanceTopic = remediation ? h.maintenanceStateTopic : undefined;
    const out = hostEntities(ctx, device, agent, h.id, maintenanceTopic ? [maintenanceTopic] : []);
    if (h.watchesContainers) out.push(...hostContainerEntities(ctx, device, h.id));
    // The maintenance switch is a remediation control: only there when remediation is.
    if (remediation && h.offersMaintenance !== false) {
      out.push(
        ...maintenanceEntities(ctx, device, { host: h.id, stateTopic: h.maintenanceStateTopic }),
      );
    }
    for (const c of h.containers ?? [])
      out.push(...containerEntities(ctx, device, { ...c, host: h.id }));
    for (const d of h.disks ?? []) out.push(...diskEntities(ctx, device, { ...d, host: h.id }));
    for (const b of backupsOn(h.id)) out.push(...backupEntities(ctx, device, b));
    yield out;
  }
}

/**
 * A digest of everything desiredConfigs reads from a model: equal digests, equal configs.
 * Taking it costs a small fraction of building the configs (5,000 containers: ~25,000
 * configs), so an unchanged model can skip the build. A container counts only by what its
 * entities show: its key, name, display label and restart button, not its other labels.
 */
export function modelFingerprint(model: DiscoveryModel): string {
  const hosts = model.hosts.map((h) => ({
    ...h,
    containers: h.containers?.map((c) => [
      containerKey(c),
      c.name,
      c.displayName ?? c.labels?.[COMPOSE_SERVICE] ?? null,
      c.withRestart ?? null,
    ]),
  }));
  return createHash('sha256')
    .update(JSON.stringify({ ...model, hosts }))
    .digest('base64');
}
