import { topics } from '../../src/core/topics.js';
import { slugify } from '../../src/core/slug.js';
import {
  buildEntity,
  enumTemplate,
  field,
  fieldTemplate,
  onOffTemplate,
} from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';
import type { EntityFamily } from '../family.js';
import { idToken } from '../ids.js';
import { smartEntities } from './smart.js';

/** A mounted filesystem on a host. */
export interface DiskDescription {
  readonly host: string;
  readonly mount: string;
  readonly displayName?: string;
  /**
   * The mount's id token (`root`, `mnt_data`): its entities' ids and its state topic.
   * Default `mountKey(mount)`; disksFamily sets it where two mounts would share one.
   */
  readonly key?: string;
  /** A clean-up button (`disk_cleanup` of the jobs that apply to it). */
  readonly cleanup?: boolean;
}

/** Fields of the disk state JSON these entities read. */
export const DISK_FIELDS = {
  usedPct: 'used_pct',
  free: 'free',
  level: 'level',
  timeToFull: 'time_to_full_s',
  problem: 'problem',
} as const;
export const DISK_LEVELS = ['ok', 'warn', 'critical'] as const;

/**
 * A mount point as Home Assistant users name it (issue #16): `/` → `root`, `/mnt/data` →
 * `mnt_data`. Only the mount point counts, never a device name, so ids survive reboots
 * and re-plugged disks. A mount point with other characters keeps a short hash of itself.
 */
export function mountKey(mount: string): string {
  if (mount === '/') return 'root';
  const joined = mount.replace(/^\/+|\/+$/g, '').replace(/\/+/g, '_');
  return slugify(joined) === joined ? joined : idToken(mount);
}

/**
 * The keys of a host's mounts: mountKey, except where two mounts meet on one key (`/`
 * and `/root`, `/mnt/data` and `/mnt_data`): those take idToken of their whole path.
 */
export function mountKeys(mounts: readonly string[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const m of mounts) count.set(mountKey(m), (count.get(mountKey(m)) ?? 0) + 1);
  return new Map(
    mounts.map((m) => {
      const k = mountKey(m);
      return [m, count.get(k)! > 1 ? idToken(m) : k];
    }),
  );
}

/** Used %, free bytes, time to full, the problem flag and the level of one mount. */
export function diskEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  d: DiskDescription,
): DiscoveryConfig[] {
  const label = d.displayName ?? d.mount;
  const subject = d.key ?? mountKey(d.mount);
  const stateTopic = topics.disk(ctx.root, d.host, subject);
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
      kind: 'duration_s',
      key: 'time_to_full',
      name: `${label} time to full`,
      // Unknown (None) while not growing: HA shows no number rather than a made-up one.
      valueTemplate: fieldTemplate(DISK_FIELDS.timeToFull),
    },
    {
      ...base,
      kind: 'problem',
      key: 'problem',
      name: `${label} problem`,
      valueTemplate: onOffTemplate(`${field(DISK_FIELDS.problem)} == true`),
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
  if (d.cleanup) {
    specs.push({
      kind: 'button_run',
      domain: 'disk',
      subject,
      key: 'cleanup',
      name: `${label} clean up`,
      icon: 'mdi:broom',
      commandTopic: topics.command(ctx.root, 'disk_cleanup'),
      // The job list comes from config; the press names only the host and the mount.
      options: { payload_press: JSON.stringify({ target: d.host, args: { mount: d.mount } }) },
    });
  }
  return specs.map((s) => buildEntity(ctx, hostDevice, s));
}

/** A host whose disks are watched, the mounts last read on it and its SMART drives. */
export interface DiskHost {
  readonly id: string;
  readonly mounts: readonly string[];
  /** Drives SMART reports on: key (`sda`) and name (`/dev/sda`). */
  readonly drives?: readonly { readonly key: string; readonly name: string }[];
  /** Mounts with a clean-up button. */
  readonly cleanable?: readonly string[];
}

/** The disks family: each watched host's mounts on its device. */
export function disksFamily(hosts: readonly DiskHost[]): EntityFamily {
  const byHost = new Map(hosts.map((h) => [h.id, mountKeys(h.mounts)]));
  const drives = new Map(hosts.map((h) => [h.id, h.drives ?? []]));
  const cleanable = new Map(hosts.map((h) => [h.id, new Set(h.cleanable ?? [])]));
  return {
    name: 'disks',
    key: hosts.map((h) => [h.id, [...byHost.get(h.id)!], h.drives ?? [], h.cleanable ?? []]),
    host: (ctx, device, host) => [
      ...[...(byHost.get(host) ?? [])].flatMap(([mount, key]) =>
        diskEntities(ctx, device, {
          host,
          mount,
          key,
          cleanup: cleanable.get(host)?.has(mount) ?? false,
        }),
      ),
      ...(drives.get(host) ?? []).flatMap((d) => smartEntities(ctx, device, { host, ...d })),
    ],
  };
}
