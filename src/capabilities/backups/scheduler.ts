import type { CronExpressionParser } from 'cron-parser';
import { createRequire } from 'node:module';
import type * as NodeCron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Clock } from '../../core/clock.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import type { BackupJobConfig } from './config.js';
import type { JobRunner } from './job-runner.js';
import type { BackupTracker } from './tracker.js';

/** A job with a schedule and the runner that runs it. */
export interface ScheduledJob {
  readonly job: BackupJobConfig & { schedule: string };
  readonly runner: JobRunner;
}

export interface SchedulerOptions {
  readonly jobs: readonly ScheduledJob[];
  readonly tracker: BackupTracker;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * The jobs' schedules on node-cron (in each job's time zone), and at start-up the one
 * catch-up run of a `catch_up: true` job whose last fire time passed while the agent was
 * down — node-cron does not catch up by itself. A fire while the job still runs is refused
 * by its runner (one run at a time) and logged there.
 */
export class Scheduler implements Component {
  readonly name = 'backups-scheduler';
  readonly #o: SchedulerOptions;
  readonly #tasks: ScheduledTask[] = [];

  constructor(opts: SchedulerOptions) {
    this.#o = opts;
  }

  async start(): Promise<void> {
    if (this.#o.jobs.length === 0) return;
    // Loaded with the first schedule: an agent without one never pays for them (issue 15).
    // Its CommonJS build, the one config.ts validates with: one copy in the process.
    const { createTask } = createRequire(import.meta.url)('node-cron') as typeof NodeCron;
    const previousFire = previousFireWith((await import('cron-parser')).CronExpressionParser);
    for (const { job, runner } of this.#o.jobs) {
      const task = createTask(job.schedule, () => void runner.trigger('schedule'), {
        name: `backup:${job.name}`,
        ...(job.timezone ? { timezone: job.timezone } : {}),
        // Missed fires are this module's to handle (catch_up), not node-cron's to warn about.
        suppressMissedWarning: true,
        unref: true,
      });
      this.#tasks.push(task);
      await task.start();
      if (job.catch_up) this.#catchUp(job, runner, previousFire);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#tasks.splice(0)) await t.destroy();
  }

  #catchUp(job: ScheduledJob['job'], runner: JobRunner, previousFire: PreviousFire): void {
    const { tracker, clock, log } = this.#o;
    const rec = tracker.record(job.name);
    if (!rec) return;
    const now = clock.now();
    const missed = previousFire(job, now);
    // The last start (or, never run, the first watch) before the last fire: it was missed.
    const since = rec.last_started ?? rec.watched_since;
    if (missed === undefined || missed <= since) return;
    log.info(
      { job: job.name, missed: new Date(missed).toISOString() },
      'backup missed its scheduled run while the agent was down: running it now',
    );
    runner.trigger('catch_up');
  }
}

/** The schedule's last fire time at or before `now` (epoch ms), in the job's time zone. */
type PreviousFire = (
  job: { schedule: string; timezone?: string | undefined },
  now: number,
) => number | undefined;

function previousFireWith(parser: typeof CronExpressionParser): PreviousFire {
  return (job, now) => {
    try {
      const expr = parser.parse(job.schedule, {
        currentDate: new Date(now),
        ...(job.timezone ? { tz: job.timezone } : {}),
      });
      return expr.prev().getTime();
    } catch {
      // Validated at load by node-cron; one cron-parser reads otherwise has no catch-up.
      return undefined;
    }
  };
}
