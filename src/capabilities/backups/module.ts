import { backupsFamily } from '../../../discovery/entities/backups.js';
import type { CapabilityModule } from '../capability.js';
import { BACKUP_KIND } from './tracker.js';
import { placedJobs } from './placement.js';

/**
 * Backups (issue #17): jobs the agent runs (on a schedule, locally or over SSH), jobs
 * something else runs and reports (MQTT, HTTP pings), jobs whose output it watches; a
 * dead-man's switch over all of them, one incident per job, and their entities on the
 * device of the host they run on. Off unless the `backups` section is present.
 */
export const backupsModule: CapabilityModule = {
  name: 'backups',
  events: ['backup_succeeded', 'backup_failed', 'backup_late'],
  async create(ctx) {
    const section = ctx.config.backups;
    if (!section) {
      // Turned off with an alert open: nothing would ever close it.
      for (const i of ctx.incidents.list(BACKUP_KIND)) ctx.incidents.close(i.kind, i.subject);
      return undefined;
    }
    // The runtime (scheduler, runners, HTTP pings) only with the section.
    const { BackupJobs } = await import('./wiring.js');
    const jobs = new BackupJobs(ctx, section);
    const family = backupsFamily(placedJobs(ctx.config));
    return {
      name: 'backups',
      components: jobs.components,
      entities: () => family,
      executors: [jobs.executor],
      health: { path: 'backups', report: () => jobs.report() },
      http: [jobs.pings],
    };
  },
  entities: (config) => config.backups && backupsFamily(placedJobs(config)),
};
