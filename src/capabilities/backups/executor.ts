import { commandError, type CommandError, type ExecAction } from '../../commands/command.js';
import type {
  ExecutionRequest,
  ExecutionResult,
  Executor,
} from '../../commands/executors/types.js';
import type { JobRunner } from './job-runner.js';

/**
 * `run_backup` (issue #17): Home Assistant's "Run now" button, through the remediation
 * policy like any action (allowlist, approval, dry-run, audit). The action is done once
 * the run has started: a backup may take hours, and its outcome comes as its own event
 * and state, not as the action's.
 */
export class RunBackupExecutor implements Executor {
  readonly name = 'backups';
  readonly available = true;
  readonly actions: readonly ExecAction[] = ['run_backup'];
  readonly #runners: ReadonlyMap<string, JobRunner>;
  readonly #others: readonly string[];

  /** `runners`: the jobs the agent runs; `others`: jobs that are reported or watched. */
  constructor(runners: ReadonlyMap<string, JobRunner>, others: readonly string[]) {
    this.#runners = runners;
    this.#others = others;
  }

  validate(req: ExecutionRequest): CommandError | undefined {
    if (this.#runners.has(req.target)) return undefined;
    if (this.#others.includes(req.target)) {
      const msg = `backup job ${req.target} has no command: it is reported or watched, the agent cannot run it`;
      return commandError('not_available', 'target', msg);
    }
    const known = [...this.#runners.keys()].join(', ') || 'none';
    return commandError(
      'not_found',
      'target',
      `no backup job ${req.target} (jobs with a command: ${known})`,
    );
  }

  run(req: ExecutionRequest): Promise<ExecutionResult> {
    const runner = this.#runners.get(req.target);
    if (!runner) return Promise.resolve({ ok: false, message: `no backup job ${req.target}` });
    const t = runner.trigger('run_now');
    if (!t.accepted) {
      return Promise.resolve({ ok: false, message: `backup ${req.target} is already running` });
    }
    return Promise.resolve({ ok: true, message: `backup ${req.target} started` });
  }
}
