import { disksFamily } from '../../../discovery/entities/disks.js';
import type { CapabilityModule } from '../capability.js';
import { cleanupExecutor } from './cleanup/from-config.js';
import { closeUnwatched, DiskMonitoring, diskHosts } from './monitoring.js';

/**
 * Disks (issue #16): the local machine's and every SSH host's real filesystems, with
 * used %, free, inodes, warn / critical levels with hysteresis, growth and time to full,
 * one incident per disk, and their entities on each host's device. Off unless the
 * `disks` section is present.
 */
export const disksModule: CapabilityModule = {
  name: 'disks',
  events: [
    'disk_pressure',
    'disk_filling',
    'disk_recovered',
    'disk_smart_failed',
    'disk_sectors_reallocated',
  ],
  create(ctx) {
    const section = ctx.config.disks;
    if (!section) {
      // Turned off with a disk alert open: nothing would ever close it.
      closeUnwatched(ctx, new Set());
      return undefined;
    }
    const monitoring = new DiskMonitoring(ctx, section);
    return {
      name: 'disks',
      components: monitoring.components,
      entities: () => disksFamily(monitoring.hosts()),
      health: { path: 'disks', report: () => monitoring.report() },
      executors: [
        cleanupExecutor(monitoring.cleanup, section, (h) => monitoring.mountsRead(h)) ?? [],
      ].flat(),
    };
  },
  entities: (config) =>
    config.disks && disksFamily(diskHosts(config).map((h) => ({ id: h.id, mounts: [] }))),
};
