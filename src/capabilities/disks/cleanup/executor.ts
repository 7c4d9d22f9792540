import { z } from 'zod';
import { commandError, type CommandError, type ExecAction } from '../../../commands/command.js';
import type {
  ExecutionRequest,
  ExecutionResult,
  Executor,
} from '../../../commands/executors/types.js';
import { errorMessage } from '../../../core/errors.js';
import { spokenBytes } from '../alert-text.js';
import type { CleanupHost, JobOutcome, MountSpace } from './hosts.js';

/** One host's cleanup: its jobs by id and where they run. */
export interface CleanupTarget {
  readonly jobs: ReadonlyMap<string, readonly string[]>;
  readonly on: CleanupHost;
  /** The job ids that apply to a mount (`disks.mounts[].cleanup`, else all). */
  jobsFor(mount: string): string[];
}

export interface DiskCleanupExecutorOptions {
  /** Hosts with cleanup jobs, by id. */
  readonly hosts: ReadonlyMap<string, CleanupTarget>;
  /** `disks.cleanup_timeout`: longest run of one job. */
  readonly timeoutMs: number;
  /** The mounts last read on a host, or undefined before its first reading. */
  readonly mounts: (host: string) => readonly string[] | undefined;
}

const LISTED = 20;
const args = z.strictObject(
  {
    mount: z
      .string({ error: 'expected the mount point to clean up, such as "/" or "/srv"' })
      .regex(/^\/[^\0]{0,4095}$/, {
        error: 'expected the mount point to clean up, such as "/" or "/srv"',
      }),
    job: z
      .string({ error: 'expected a cleanup job id (letters, digits, _ or -)' })
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, {
        error: 'expected a cleanup job id (letters, digits, _ or -)',
      })
      .optional(),
  },
  { error: 'expected args such as { "mount": "/", "job": "docker_images" }' },
);

/**
 * `disk_cleanup` (issue #16): the target is a host, `args.mount` one of its mounts and
 * `args.job` one of its configured jobs (all of those that apply to the mount when
 * absent). The payload only names them: the commands are the host's `cleanup` argv from
 * config. The mount is measured before and after, and the result says how much was freed.
 */
export class DiskCleanupExecutor implements Executor {
  readonly name = 'disk-cleanup';
  readonly available = true;
  readonly actions: readonly ExecAction[] = ['disk_cleanup'];
  readonly #o: DiskCleanupExecutorOptions;

  constructor(opts: DiskCleanupExecutorOptions) {
    this.#o = opts;
  }

  validate(req: ExecutionRequest): CommandError | undefined {
    const host = this.#o.hosts.get(req.target);
    if (!host) {
      const msg = `no host ${req.target} with cleanup jobs configured (hosts with some: ${listed([...this.#o.hosts.keys()])})`;
      return commandError('not_found', 'target', msg);
    }
    const parsed = args.safeParse(req.args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path[0];
      const field = key === undefined ? 'args' : `args.${String(key).slice(0, 64)}`;
      const message =
        issue?.code === 'unrecognized_keys'
          ? 'unknown argument (mount, job)'
          : (issue?.message ?? 'invalid arguments');
      return commandError('invalid', field, message);
    }
    const { mount, job } = parsed.data;
    const known = this.#o.mounts(req.target);
    if (known !== undefined && !known.includes(mount)) {
      const msg = `no mount ${mount} on ${req.target} as last read (it has: ${listed(known)})`;
      return commandError('not_found', 'args.mount', msg);
    }
    const applies = host.jobsFor(mount);
    if (job !== undefined && !host.jobs.has(job)) {
      const msg = `no cleanup job ${job} on ${req.target} (it has: ${listed([...host.jobs.keys()])})`;
      return commandError('not_found', 'args.job', msg);
    }
    if (job !== undefined && !applies.includes(job)) {
      const msg = `cleanup job ${job} does not apply to ${mount} on ${req.target} (jobs for it: ${listed(applies)})`;
      return commandError('invalid', 'args.job', msg);
    }
    if (applies.length === 0) {
      return commandError('not_found', 'args.mount', `no cleanup job applies to ${mount}`);
    }
    return undefined;
  }

  async run(req: ExecutionRequest): Promise<ExecutionResult> {
    const host = this.#o.hosts.get(req.target);
    const mount = req.args.mount as string;
    const job = req.args.job as string | undefined;
    if (!host) return { ok: false, message: `no cleanup jobs on ${req.target}` };
    const subject = `${req.target}:${mount}`;
    const before = await host.on.space(mount);
    const ran: { job: string; exit_code: number | null; error?: string }[] = [];
    for (const id of job !== undefined ? [job] : host.jobsFor(mount)) {
      const argv = host.jobs.get(id)!;
      let out: JobOutcome;
      try {
        out = await host.on.run(argv, this.#o.timeoutMs);
      } catch (err) {
        ran.push({ job: id, exit_code: null, error: errorMessage(err) });
        continue;
      }
      const failed = out.code !== 0;
      const why = out.signal ? `killed by ${out.signal}` : `exit code ${out.code ?? '?'}`;
      const detail = out.stderr.trim().split('\n')[0]?.slice(0, 200);
      ran.push({
        job: id,
        exit_code: out.code,
        ...(failed ? { error: detail ? `${why}: ${detail}` : why } : {}),
      });
    }
    // Re-measured after the jobs, whatever they did: space freed by a job that then
    // failed is still freed.
    const after = await host.on.space(mount);
    const freed = before.used - after.used;
    const failures = ran.filter((r) => r.error !== undefined);
    const data = {
      mount,
      jobs: ran,
      used_before: before.used,
      used_after: after.used,
      freed_bytes: freed,
      used_pct_before: pct(before),
      used_pct_after: pct(after),
    };
    const space =
      freed >= 0
        ? `freed ${spokenBytes(freed)} (${pct(before)} % → ${pct(after)} % used)`
        : `freed nothing: used grew by ${spokenBytes(-freed)} meanwhile`;
    if (failures.length > 0) {
      const what = failures.map((f) => `${f.job}: ${f.error ?? ''}`).join('; ');
      return { ok: false, message: `cleanup of ${subject} failed (${what}); ${space}`, data };
    }
    const names = ran.map((r) => r.job).join(', ');
    return { ok: true, message: `cleanup of ${subject} by ${names} ${space}`, data };
  }
}

function pct(s: MountSpace): number {
  const total = s.used + s.free;
  return total > 0 ? Math.round((s.used / total) * 1000) / 10 : 0;
}

function listed(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const sorted = [...names].sort();
  const more = sorted.length - LISTED;
  return sorted.slice(0, LISTED).join(', ') + (more > 0 ? ` and ${more} more` : '');
}
