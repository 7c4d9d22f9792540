import type { CommandError, ExecAction } from '../command.js';

/**
 * What runs an action. Adding one (backups, disk cleanup) is a new file implementing this
 * and one more entry in the list main.ts hands to Remediation: the router and the policy
 * never change for it.
 */
export interface ExecutionRequest {
  readonly actionId: string;
  readonly action: ExecAction;
  readonly target: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface ExecutionResult {
  readonly ok: boolean;
  /** One line for people: what happened, or why it failed. */
  readonly message: string;
  readonly data?: Record<string, unknown>;
}

export interface Executor {
  readonly name: string;
  readonly actions: readonly ExecAction[];
  /** False for a placeholder: its actions answer `not_available`. */
  readonly available: boolean;
  /** Checks target and args before the policy sees the command; an error refuses it. */
  validate(req: ExecutionRequest): CommandError | undefined;
  /** Runs and verifies the action; throwing counts as a failure with the error's message. */
  run(req: ExecutionRequest): Promise<ExecutionResult>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
