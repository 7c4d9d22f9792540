import type { NewEvent } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Answer, Command, Origin } from './command.js';

export interface DiskCleanupOfferDeps {
  submit(cmd: Command, origin: Origin): Promise<Answer>;
  log: Logger;
}

/**
 * `disks.cleanup_on_critical` (issue #16): a mount that reaches `critical` gets a
 * `disk_cleanup` of the jobs that apply to it, from origin `self_heal`. The policy decides
 * as for anyone: allowed, it runs; `decision: approve`, it waits as a pending action (the
 * cleanup is offered, not run); no rule, it is refused and the log says so. The executor
 * refuses a mount no job applies to before the policy is asked.
 */
export class DiskCleanupOffer {
  readonly #d: DiskCleanupOfferDeps;

  constructor(deps: DiskCleanupOfferDeps) {
    this.#d = deps;
  }

  /** Every event of the bus; acts on a `disk_pressure` that entered `critical`. */
  onEvent(e: NewEvent): void {
    const host = e.data?.host;
    const mount = e.data?.mount;
    if (e.type !== 'disk_pressure' || e.data?.level !== 'critical') return;
    if (typeof host !== 'string' || typeof mount !== 'string') return;
    const used = typeof e.data.used_pct === 'number' ? ` at ${e.data.used_pct} %` : '';
    const cmd: Command = {
      action: 'disk_cleanup',
      target: host,
      args: { mount },
      dryRun: false,
      requestedBy: 'self-heal',
      reason: `${host}:${mount} is critical${used}`,
    };
    this.#d.submit(cmd, 'self_heal').then(
      (a) => {
        const outcome = a.error ? `${a.error.code}: ${a.error.message}` : (a.status ?? 'sent');
        this.#d.log.info(
          { host, mount, outcome },
          `self-healing: disk cleanup of ${host}:${mount}`,
        );
      },
      (err: unknown) => {
        this.#d.log.error({ host, mount, err: errorMessage(err) }, 'self-healing cleanup failed');
      },
    );
  }
}
