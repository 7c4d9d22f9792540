import type { Clock } from '../../core/clock.js';
import { alertData, type EventData, type NewEvent } from '../../core/events.js';
import type { StateFile } from '../../core/state-file.js';
import { incidentRef, type Incidents } from '../../state/incidents.js';
import { failedText, lastLine, lateText, succeededText } from './alert-text.js';
import { newRecord, type BackupsFile, type JobRecord } from './job-record.js';

/** The incident kind of a backup job (src/state/incidents.ts). */
export const BACKUP_KIND = 'backup';

export type JobKind = 'run' | 'reported' | 'watched';
export type JobStatus = 'ok' | 'running' | 'failed' | 'late' | 'never_run';

/** A configured job as the tracker needs it. */
export interface TrackedJob {
  readonly name: string;
  /** `local` or a host id. */
  readonly host: string;
  readonly kind: JobKind;
  readonly maxAgeMs: number;
}

/** How a job's outcome reached the agent. */
export type Via = 'run' | 'mqtt' | 'http' | 'watch';

/** One run (or report) that ended. */
export interface Outcome {
  readonly ok: boolean;
  /** When it ended, epoch ms. */
  readonly at: number;
  readonly startedAt?: number;
  readonly exitCode?: number | null;
  readonly durationS?: number | null;
  readonly size?: number | null;
  /** Why it failed, in words. */
  readonly reason?: string;
  /** The tool's own last words or the reporter's message. */
  readonly message?: string;
  readonly via: Via;
  /** More for the event's data (output tails, attempt). */
  readonly data?: EventData;
}

/** The retained state of a job: what Home Assistant's entities read. */
export interface JobState {
  readonly job: string;
  readonly host: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  readonly problem: boolean;
  readonly last_success: string | null;
  readonly last_run: string | null;
  readonly last_outcome: 'success' | 'failed' | null;
  readonly exit_code: number | null;
  readonly duration: number | null;
  readonly size: number | null;
  readonly message: string | null;
  readonly max_age_s: number;
}

export interface BackupTrackerOptions {
  readonly jobs: readonly TrackedJob[];
  readonly incidents: Incidents;
  readonly clock: Clock;
  /** `<data_dir>/backups.json`; in memory only without one. */
  readonly file?: StateFile<BackupsFile>;
  readonly onEvent: (e: NewEvent) => void;
  readonly onState: (job: string, state: JobState) => void;
}

/**
 * The backups' state machine (issue #17): per job its record (last success, last run),
 * whether it runs now, and its incident — a failure opens one (signal `failed`), the
 * dead-man's switch another signal on the same (`late`), the next success closes it.
 * Every change is written to the data dir before it is announced.
 */
export class BackupTracker {
  readonly #o: BackupTrackerOptions;
  readonly #jobs: ReadonlyMap<string, TrackedJob>;
  readonly #records = new Map<string, JobRecord>();
  readonly #running = new Set<string>();

  constructor(opts: BackupTrackerOptions) {
    this.#o = opts;
    this.#jobs = new Map(opts.jobs.map((j) => [j.name, j]));
    const saved = opts.file?.load()?.jobs ?? {};
    const now = opts.clock.now();
    for (const j of opts.jobs) this.#records.set(j.name, saved[j.name] ?? newRecord(now));
    // A job taken out of the config with an alert open: nothing would ever close it.
    for (const i of opts.incidents.list(BACKUP_KIND)) {
      if (![...this.#jobs.values()].some((j) => subjectOf(j) === i.subject)) {
        opts.incidents.close(BACKUP_KIND, i.subject);
      }
    }
    this.#save();
  }

  job(name: string): TrackedJob | undefined {
    return this.#jobs.get(name);
  }

  record(name: string): JobRecord | undefined {
    return this.#records.get(name);
  }

  isRunning(name: string): boolean {
    return this.#running.has(name);
  }

  /** A run began (the agent's, or a `start` report). */
  started(name: string, at: number): void {
    const rec = this.#records.get(name);
    if (!rec) return;
    this.#running.add(name);
    this.#records.set(name, { ...rec, last_started: at });
    this.#save();
    this.#publish(name);
  }

  /** A run ended: recorded, then announced with its incident opened or closed. */
  finished(name: string, o: Outcome): void {
    const job = this.#jobs.get(name);
    const rec = this.#records.get(name);
    if (!job || !rec) return;
    this.#running.delete(name);
    const next: JobRecord = {
      ...rec,
      last_run: o.at,
      last_started: o.startedAt ?? rec.last_started,
      last_outcome: o.ok ? 'success' : 'failed',
      last_success: o.ok ? Math.max(o.at, rec.last_success ?? 0) : rec.last_success,
      exit_code: o.exitCode ?? null,
      duration_s: o.durationS ?? null,
      // A failed run's size says nothing of the backup: the last good one stays shown.
      size: o.ok ? (o.size ?? null) : rec.size,
      message: o.ok ? (o.message ?? null) : failureMessage(o),
    };
    this.#records.set(name, next);
    this.#save();
    this.#o.onEvent(o.ok ? this.#succeeded(job, o) : this.#failed(job, o));
    this.#publish(name);
  }

  /** A passive job's newest file: a success when it is newer than the last one seen. */
  observed(name: string, newest: number, message?: string): void {
    const job = this.#jobs.get(name);
    const rec = this.#records.get(name);
    if (!job || !rec) return;
    if (rec.last_success !== null && newest <= rec.last_success) {
      if ((message ?? null) !== rec.message) {
        this.#records.set(name, { ...rec, message: message ?? null });
        this.#save();
        this.#publish(name);
      }
      return;
    }
    const o: Outcome = { ok: true, at: newest, via: 'watch', ...(message ? { message } : {}) };
    this.#records.set(name, {
      ...rec,
      last_success: newest,
      last_run: newest,
      last_outcome: 'success',
      message: message ?? null,
    });
    this.#save();
    // Each new file is no news; a late job recovering is.
    const e = this.#succeeded(job, o);
    if (e.data?.incident) this.#o.onEvent(e);
    this.#publish(name);
  }

  /** A passive job's path could not be read: said in its state, never a failure. */
  unreadable(name: string, message: string): void {
    const rec = this.#records.get(name);
    if (!rec || rec.message === message) return;
    this.#records.set(name, { ...rec, message });
    this.#save();
    this.#publish(name);
  }

  /**
   * The dead-man's switch: a job whose last success (or, never having succeeded, its
   * first watch) is older than `max_age` is late, whatever the cause. An incident restored
   * from before a restart is not announced again.
   */
  checkLate(now = this.#o.clock.now()): void {
    for (const job of this.#jobs.values()) {
      const rec = this.#records.get(job.name)!;
      const anchor = rec.last_success ?? rec.watched_since;
      const subject = subjectOf(job);
      const open = this.#o.incidents.get(BACKUP_KIND, subject);
      if (now - anchor <= job.maxAgeMs || open?.signals.late !== undefined) continue;
      const { incident } = this.#o.incidents.raise(subject, 'late', 'error', now, {
        kind: BACKUP_KIND,
        since: anchor + job.maxAgeMs,
        target: job.name,
      });
      const text = lateText(subject, rec.last_success, rec.watched_since, job.maxAgeMs, now);
      this.#o.onEvent({
        type: 'backup_late',
        severity: 'error',
        subject,
        ts: now,
        data: alertData(
          {
            ...jobData(job),
            last_success: iso(rec.last_success),
            max_age_s: Math.round(job.maxAgeMs / 1000),
          },
          text,
          incidentRef(incident, now, 'open'),
        ),
      });
      this.#publish(job.name);
    }
  }

  /** Every job's state now. */
  states(): JobState[] {
    return [...this.#jobs.keys()].map((n) => this.state(n)!);
  }

  state(name: string): JobState | undefined {
    const job = this.#jobs.get(name);
    const rec = this.#records.get(name);
    if (!job || !rec) return undefined;
    const open = this.#o.incidents.get(BACKUP_KIND, subjectOf(job));
    const status: JobStatus = this.#running.has(name)
      ? 'running'
      : rec.last_outcome === 'failed'
        ? 'failed'
        : open?.signals.late !== undefined
          ? 'late'
          : rec.last_success !== null
            ? 'ok'
            : 'never_run';
    return {
      job: name,
      host: job.host,
      kind: job.kind,
      status,
      problem: open !== undefined,
      last_success: iso(rec.last_success),
      last_run: iso(rec.last_run),
      last_outcome: rec.last_outcome,
      exit_code: rec.exit_code,
      duration: rec.duration_s,
      size: rec.size,
      message: rec.message,
      max_age_s: Math.round(job.maxAgeMs / 1000),
    };
  }

  #succeeded(job: TrackedJob, o: Outcome): NewEvent {
    const subject = subjectOf(job);
    const closed = this.#o.incidents.close(BACKUP_KIND, subject);
    const text = succeededText(subject, o.durationS ?? null, closed !== undefined);
    return {
      type: 'backup_succeeded',
      severity: 'info',
      subject,
      ts: o.at,
      data: alertData(
        { ...jobData(job), ...outcomeData(o) },
        text,
        closed && incidentRef(closed, o.at, 'closed'),
      ),
    };
  }

  #failed(job: TrackedJob, o: Outcome): NewEvent {
    const subject = subjectOf(job);
    const { incident } = this.#o.incidents.raise(subject, 'failed', 'error', o.at, {
      kind: BACKUP_KIND,
      target: job.name,
    });
    const text = failedText(subject, o.reason ?? 'failed', o.message);
    return {
      type: 'backup_failed',
      severity: 'error',
      subject,
      ts: o.at,
      data: alertData(
        { ...jobData(job), ...outcomeData(o), reason: o.reason ?? 'failed' },
        text,
        incidentRef(incident, o.at, 'open'),
      ),
    };
  }

  #publish(name: string): void {
    const s = this.state(name);
    if (s) this.#o.onState(name, s);
  }

  #save(): void {
    this.#o.file?.save({ version: 1, jobs: Object.fromEntries(this.#records) });
  }
}

/** What a job's events and incident are about: `<host>/<job>`, as a container's. */
export function subjectOf(job: Pick<TrackedJob, 'host' | 'name'>): string {
  return `${job.host}/${job.name}`;
}

function jobData(job: TrackedJob): EventData {
  return { job: job.name, host: job.host, kind: job.kind };
}

function outcomeData(o: Outcome): EventData {
  return {
    via: o.via,
    exit_code: o.exitCode ?? null,
    duration_s: o.durationS ?? null,
    size: o.size ?? null,
    ...(o.message !== undefined ? { detail: o.message } : {}),
    ...o.data,
  };
}

/** The reason and the tool's (or reporter's) last words: "exit code 3: pg_dump: …". */
function failureMessage(o: Outcome): string {
  const last = o.message === undefined ? undefined : lastLine(o.message);
  return [o.reason ?? 'failed', last].filter((x) => x !== undefined).join(': ');
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
