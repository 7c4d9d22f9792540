import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { BackupTracker, Via } from './tracker.js';

/**
 * A report of a backup something else runs (issue #17, point 3): over MQTT as JSON, or as
 * an HTTP ping turned into the same shape. `duration` in seconds, `size` in bytes.
 */
export const reportSchema = z.strictObject(
  {
    status: z.enum(['start', 'success', 'fail'], {
      error: 'expected status start, success or fail',
    }),
    exit_code: z
      .int({ error: 'expected exit_code as a whole number 0-255' })
      .min(0, { error: 'expected exit_code as a whole number 0-255' })
      .max(255, { error: 'expected exit_code as a whole number 0-255' })
      .optional(),
    duration: z
      .number({ error: 'expected duration in seconds, 0 or more' })
      .min(0, { error: 'expected duration in seconds, 0 or more' })
      .max(10 * 365 * 86_400, { error: 'expected duration of at most 10 years in seconds' })
      .optional(),
    size: z
      .int({ error: 'expected size as a whole number of bytes, 0 or more' })
      .min(0, { error: 'expected size as a whole number of bytes, 0 or more' })
      .optional(),
    message: z
      .string({ error: 'expected message as text' })
      .max(10_240, { error: 'expected a message of at most 10240 characters' })
      .optional(),
  },
  { error: 'expected a JSON object such as {"status": "success"}' },
);
export type Report = z.output<typeof reportSchema>;

/** Why a report was not taken, with the field at fault. */
export interface ReportRefusal {
  readonly code: 'not_found' | 'invalid' | 'not_reported';
  readonly field: string | null;
  readonly message: string;
}

/**
 * Applies reports to the tracker: only a job configured without command or watch_path is
 * reported (the others' outcomes are the agent's own). A `start` marks it running and
 * lets a later `success` know its duration.
 */
export class ReportIntake {
  readonly #tracker: BackupTracker;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(opts: { tracker: BackupTracker; clock: Clock; log: Logger }) {
    this.#tracker = opts.tracker;
    this.#clock = opts.clock;
    this.#log = opts.log;
  }

  apply(jobName: string, r: Report, via: Via, from?: string): ReportRefusal | undefined {
    const job = this.#tracker.job(jobName);
    if (!job) {
      return { code: 'not_found', field: 'job', message: `no backup job ${jobName} in config` };
    }
    if (job.kind !== 'reported') {
      const what = job.kind === 'run' ? 'the agent runs it' : 'the agent watches its path';
      return {
        code: 'not_reported',
        field: 'job',
        message: `backup job ${jobName} takes no reports: ${what}`,
      };
    }
    const now = this.#clock.now();
    this.#log.info({ job: jobName, status: r.status, via, from }, 'backup report');
    if (r.status === 'start') {
      this.#tracker.started(jobName, now);
      return undefined;
    }
    const ok = r.status === 'success';
    const started = this.#tracker.isRunning(jobName)
      ? (this.#tracker.record(jobName)?.last_started ?? undefined)
      : undefined;
    const durationS =
      r.duration ?? (started !== undefined ? Math.round((now - started) / 100) / 10 : null);
    const reason = ok
      ? undefined
      : r.exit_code !== undefined
        ? `reported exit code ${r.exit_code}`
        : 'reported as failed';
    this.#tracker.finished(jobName, {
      ok,
      at: now,
      exitCode: r.exit_code ?? null,
      durationS,
      size: r.size ?? null,
      via,
      ...(reason ? { reason } : {}),
      ...(r.message !== undefined && r.message.trim() !== '' ? { message: r.message.trim() } : {}),
      data: from !== undefined ? { reported_by: from } : {},
    });
    return undefined;
  }
}
