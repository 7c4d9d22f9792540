import { Backoff } from '../../core/backoff.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { BackupJobConfig } from './config.js';
import { lastLine } from './alert-text.js';
import type { Probe } from './probe.js';
import { failureText, type JobProcess, type RunResult } from './run-result.js';
import { pathSize, rsyncStatsSize } from './size.js';
import type { BackupTracker } from './tracker.js';

/** Why a run was asked for: the schedule, a catch-up at start, or "Run now". */
export type Trigger = 'schedule' | 'catch_up' | 'run_now';

/** How the job's command is reached: a process runner and a probe on the same host. */
export interface JobHost {
  process(): Promise<{ process: JobProcess; probe: Probe; release(): Promise<void> }>;
}

export interface JobRunnerOptions {
  readonly job: BackupJobConfig;
  readonly host: JobHost;
  readonly tracker: BackupTracker;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * Runs one job (issue #17): one run at a time — a trigger while it runs is refused and
 * logged — then its retries with backoff, and the size after a success. What it comes to
 * goes to the tracker once, after the last attempt: a retried failure that then succeeds
 * is one success, with the attempts in its data.
 */
export class JobRunner {
  readonly #o: JobRunnerOptions;
  readonly #backoff: Backoff;
  #current: Promise<unknown> | undefined;
  #retry: TimerHandle | undefined;
  #stopped = false;

  constructor(opts: JobRunnerOptions) {
    this.#o = opts;
    const { initial, max } = opts.job.backoff;
    this.#backoff = new Backoff({ initialMs: initial, maxMs: max });
  }

  get running(): boolean {
    return this.#current !== undefined || this.#retry !== undefined;
  }

  /**
   * Starts a run, or refuses when one is under way (false). Resolves with the run's last
   * attempt once it finished: callers that only trigger need not wait.
   */
  trigger(why: Trigger): { accepted: false } | { accepted: true; done: Promise<RunResult> } {
    const { job, log } = this.#o;
    if (this.running || this.#stopped) {
      log.warn({ job: job.name, trigger: why }, 'backup already running: trigger refused');
      return { accepted: false };
    }
    log.info({ job: job.name, trigger: why }, 'backup starting');
    this.#backoff.reset();
    const done = this.#attempt(why, 1);
    return { accepted: true, done };
  }

  /**
   * No new attempt after this. A run under way is not waited for: a backup may take hours,
   * and the agent's stop must not; it ends by its own timeout.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) this.#o.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    return Promise.resolve();
  }

  #attempt(why: Trigger, attempt: number): Promise<RunResult> {
    const { job, tracker, clock } = this.#o;
    tracker.started(job.name, clock.now());
    const run = this.#runOnce();
    this.#current = run;
    return run.then(async ({ result, size }) => {
      this.#current = undefined;
      if (!result.ok && attempt <= job.retries && !this.#stopped) {
        const delay = this.#backoff.next();
        this.#o.log.warn(
          { job: job.name, attempt, retry_in_ms: delay, reason: failureText(result, job.timeout) },
          'backup failed: retrying',
        );
        return new Promise<RunResult>((resolve) => {
          this.#retry = clock.setTimeout(() => {
            this.#retry = undefined;
            resolve(this.#attempt(why, attempt + 1));
          }, delay);
        });
      }
      this.#report(result, why, attempt, size);
      return result;
    });
  }

  async #runOnce(): Promise<{ result: RunResult; size: SizeOutcome }> {
    const { job, host } = this.#o;
    let reached: Awaited<ReturnType<JobHost['process']>>;
    const startedAt = this.#o.clock.now();
    try {
      reached = await host.process();
    } catch (err) {
      const result = unreached(startedAt, err);
      return { result, size: {} };
    }
    try {
      const result = await reached.process.run(job.command!, job.timeout);
      const size = result.ok ? await this.#size(result, reached.probe) : {};
      return { result, size };
    } finally {
      await reached.release();
    }
  }

  async #size(r: RunResult, probe: Probe): Promise<SizeOutcome> {
    const source = this.#o.job.size;
    if (source === undefined) return {};
    if (source === 'rsync_stats') {
      const size = rsyncStatsSize(r.stdout);
      return size === undefined
        ? { error: 'no "Total file size" in rsync --stats output' }
        : { size };
    }
    return pathSize(probe, source.path, 60_000);
  }

  #report(r: RunResult, why: Trigger, attempts: number, size: SizeOutcome): void {
    const { job, tracker, clock, log } = this.#o;
    const durationS = Math.round(r.durationMs / 100) / 10;
    const reason = r.ok ? undefined : failureText(r, job.timeout);
    const message = lastLine(r.stderr) ?? lastLine(r.stdout);
    if (size.error) log.warn({ job: job.name, err: size.error }, 'backup size not known');
    tracker.finished(job.name, {
      ok: r.ok,
      at: clock.now(),
      startedAt: r.startedAt,
      exitCode: r.exitCode,
      durationS,
      size: size.size ?? null,
      via: 'run',
      ...(reason ? { reason } : {}),
      ...(message !== undefined ? { message } : {}),
      data: {
        trigger: why,
        attempts,
        timed_out: r.timedOut,
        signal: r.signal,
        stdout_tail: r.stdout,
        stderr_tail: r.stderr,
        ...(size.error ? { size_error: size.error } : {}),
      },
    });
  }
}

interface SizeOutcome {
  readonly size?: number;
  readonly error?: string;
}

function unreached(startedAt: number, err: unknown): RunResult {
  return {
    ok: false,
    exitCode: null,
    signal: null,
    timedOut: false,
    startedAt,
    durationMs: 0,
    stdout: '',
    stderr: '',
    error: err instanceof Error ? err.message : String(err),
  };
}
