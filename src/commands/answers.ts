import type { ActionRecord } from './actions.js';
import {
  commandError,
  errorAnswer,
  type Answer,
  type Command,
  type CommandErrorCode,
} from './command.js';
import type { Decision } from './policy/index.js';

/** Answers built from what happened: an action's record, or the policy's decision. */

const FAILED: Partial<Record<string, CommandErrorCode>> = {
  failed: 'failed',
  rejected: 'rejected',
  expired: 'expired',
};

/** The answer for a command that made or touched an action, from the action's record. */
export function recordAnswer(rec: ActionRecord, action: string, id: string | null): Answer {
  const code = FAILED[rec.status];
  const message = rec.result?.message ?? rec.history.at(-1)?.note ?? rec.decision.message;
  const base: Answer = {
    ok: code === undefined,
    id,
    action,
    target: rec.target,
    status: rec.status,
    action_id: rec.id,
    message,
  };
  return code === undefined ? base : { ...base, error: commandError(code, null, message) };
}

export function decisionAnswer(cmd: Command, d: Decision, dryRun: boolean, now: number): Answer {
  const decision = { verdict: d.verdict, code: d.code, message: d.message, rule: d.rule };
  const retry =
    d.retryAt === undefined
      ? {}
      : { retry_after_s: Math.max(1, Math.ceil((d.retryAt - now) / 1000)) };
  if (dryRun) {
    return {
      ok: true,
      id: cmd.id ?? null,
      action: cmd.action,
      target: cmd.target,
      dry_run: true,
      decision,
      message: `dry run: would ${d.verdict === 'allow' ? 'run' : d.verdict === 'approve' ? 'wait for approval' : 'refuse'}: ${d.message}`,
      ...retry,
    };
  }
  const code = (
    d.code === 'not_allowed' ||
    d.code === 'backoff' ||
    d.code === 'flapping' ||
    d.code === 'suppressed'
      ? d.code
      : 'denied'
  ) as CommandErrorCode;
  return errorAnswer(cmd.action, cmd.id ?? null, commandError(code, 'target', d.message), {
    target: cmd.target,
    decision,
    ...retry,
  });
}

export function notPending(cmd: Command, rec: ActionRecord): Answer {
  const msg = `action ${rec.id} is already being decided`;
  return errorAnswer(cmd.action, cmd.id ?? null, commandError('not_pending', 'target', msg));
}
