import { commandError, type ExecAction } from '../command.js';
import type { ExecutionResult, Executor } from './types.js';

/** The stand-in for actions whose executor has not landed yet (run_backup, disk_cleanup). */
export class NotAvailableExecutor implements Executor {
  readonly name = 'not-available';
  readonly available = false;
  readonly actions: readonly ExecAction[];

  constructor(actions: readonly ExecAction[]) {
    this.actions = actions;
  }

  validate(req: { action: ExecAction }) {
    return commandError(
      'not_available',
      'action',
      `${req.action} is not available on this agent yet: no executor for it`,
    );
  }

  run(req: { action: ExecAction }): Promise<ExecutionResult> {
    return Promise.resolve({ ok: false, message: `${req.action} is not available` });
  }
}
