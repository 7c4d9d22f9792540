import type { AgentInfo, HostInfo } from '../../discovery/device.js';
import { backupEntities, type BackupDescription } from '../../discovery/entities/backups.js';
import {
  containersFamily,
  type ContainerDescription,
} from '../../discovery/entities/containers.js';
import { diskEntities, type DiskDescription } from '../../discovery/entities/disks.js';
import {
  remediationFamily,
  type RemediationDescription,
} from '../../discovery/entities/remediation.js';
import { silenceFamily } from '../../discovery/entities/silence.js';
import { watchdogFamily } from '../../discovery/entities/watchdog.js';
import type { EntityFamily } from '../../discovery/family.js';
import type { DiscoveryModel } from '../../discovery/model.js';

/**
 * A site described the way the tests and the discovery bench think of it (hosts with their
 * containers and disks, backups, remediation), turned into the real entity families.
 */

/** One host of a site, with what was observed on it. */
export interface HostSpec extends HostInfo {
  readonly containers?: readonly Omit<ContainerDescription, 'host'>[];
  readonly disks?: readonly Omit<DiskDescription, 'host'>[];
  readonly maintenanceStateTopic?: string;
  /** The "Alerts silenced" switch, reading this topic (silencing for an hour). */
  readonly silenceStateTopic?: string;
  /** The maintenance switch: only where the policy would act on it (default true). */
  readonly offersMaintenance?: boolean;
  readonly watchesContainers?: boolean;
}

/** A site as the tests describe it; `modelOf` turns it into families. */
export interface SiteSpec {
  readonly agent: AgentInfo;
  readonly hosts: readonly HostSpec[];
  readonly watchdog?: boolean | { readonly petting: boolean };
  readonly backups?: readonly (BackupDescription & { readonly host?: string })[];
  readonly remediation?: RemediationDescription | false;
}

/** The discovery model of a site, built with the real entity families. */
export function modelOf(site: SiteSpec): DiscoveryModel {
  const families: EntityFamily[] = [];
  if (site.watchdog) {
    const petting = site.watchdog === true || site.watchdog.petting;
    families.push(watchdogFamily({ petting }));
  }
  const watched = site.hosts.filter((h) => h.watchesContainers);
  families.push(
    containersFamily(watched.map((h) => ({ id: h.id, containers: h.containers ?? [] }))),
  );
  const disks = new Map(site.hosts.map((h) => [h.id, h.disks ?? []]));
  families.push({
    name: 'disks',
    key: [...disks],
    hostKey: (host) => disks.get(host) ?? null,
    host: (ctx, device, host) =>
      (disks.get(host) ?? []).flatMap((d) => diskEntities(ctx, device, { ...d, host })),
  });
  const hostIds = new Set(site.hosts.map((h) => h.id));
  const backups = site.backups ?? [];
  families.push({
    name: 'backups',
    key: backups,
    agent: (ctx, device) =>
      backups
        .filter((b) => b.host === undefined || !hostIds.has(b.host))
        .flatMap((b) => backupEntities(ctx, device, b)),
    host: (ctx, device, host) =>
      backups.filter((b) => b.host === host).flatMap((b) => backupEntities(ctx, device, b)),
  });
  if (site.remediation) {
    const maintenance = site.hosts
      .filter((h) => h.offersMaintenance !== false)
      .map((h) => ({ host: h.id, stateTopic: h.maintenanceStateTopic }));
    families.push(remediationFamily(site.remediation, maintenance));
    const silences = site.hosts.flatMap((h) =>
      h.silenceStateTopic
        ? [{ host: h.id, stateTopic: h.silenceStateTopic, forMs: 3_600_000 }]
        : [],
    );
    families.push(silenceFamily(silences));
  }
  return {
    agent: site.agent,
    hosts: site.hosts.map((h) => ({
      id: h.id,
      name: h.name,
      remote: h.remote,
      alsoOwns: site.remediation
        ? [h.maintenanceStateTopic, h.silenceStateTopic].filter((t) => t !== undefined)
        : undefined,
    })),
    families,
  };
}
