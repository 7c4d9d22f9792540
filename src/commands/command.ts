import type { CommandAction } from '../core/topics.js';

/**
 * A command as the rest of remediation sees it, after parsing (payloads.ts): the same
 * shape whether it came over MQTT, from self-healing or through the approval API that the
 * Home Assistant / Telegram bridge calls.
 */

/** Actions that run something through an executor and have a lifecycle on actions/<id>. */
export const EXEC_ACTIONS = [
  'restart_container',
  'start_container',
  'stop_container',
  'run_backup',
  'disk_cleanup',
] as const;
export type ExecAction = (typeof EXEC_ACTIONS)[number];

/** Actions that change remediation's own state: approvals, suppression, acknowledgement. */
export type ControlAction = Exclude<CommandAction, ExecAction>;

export function isExecAction(action: string): action is ExecAction {
  return (EXEC_ACTIONS as readonly string[]).includes(action);
}

/** Where a command came from. */
export type Origin = 'mqtt' | 'self_heal' | 'api';

export interface Command {
  readonly action: CommandAction;
  /** Client-chosen, for idempotency; absent when the client did not give one. */
  readonly id?: string;
  readonly target: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly dryRun: boolean;
  readonly reason?: string;
  readonly requestedBy?: string;
  /** `maintenance` and `silence`: on or off. */
  readonly enabled?: boolean;
  /**
   * `approve` / `reject` only: the action is the oldest pending one, or the one chosen in
   * the select, found when the command arrives (`target` is empty until then).
   */
  readonly pick?: 'oldest' | 'selected';
  /** `select` only: the chosen option as the select lists it (`target` empty until found). */
  readonly option?: string;
}

/** Stable error codes of a command answer; a caller can switch on them. */
export type CommandErrorCode =
  | 'bad_json'
  | 'too_large'
  | 'invalid'
  | 'unknown_action'
  | 'retained'
  | 'id_conflict'
  | 'not_available'
  | 'not_found'
  | 'not_pending'
  | 'busy'
  | 'not_allowed'
  | 'denied'
  | 'backoff'
  | 'flapping'
  | 'suppressed'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'rate_limited'
  /** The disk is full: what must be written before acting could not be (retryable). */
  | 'storage_full'
  /** The disk refused the write otherwise (read-only, I/O error). */
  | 'storage_unavailable'
  | 'internal';

/** The structured error of a refused command: what, where in the payload, why. */
export interface CommandError {
  readonly code: CommandErrorCode;
  /** The payload field at fault (`target`, `args.for`), or null when it is the whole message. */
  readonly field: string | null;
  readonly message: string;
  /** Set where it is known: whether the same command may succeed if sent again later. */
  readonly retryable?: boolean;
}

export function commandError(
  code: CommandErrorCode,
  field: string | null,
  message: string,
): CommandError {
  return { code, field, message };
}

/** The answer to one command, published on the result topic and the MQTT 5 response topic. */
export interface Answer {
  readonly ok: boolean;
  /** The client's id, echoed; null when it gave none. */
  readonly id: string | null;
  readonly action: string;
  readonly target?: string;
  /** The action's status when the command made or touched one. */
  readonly status?: string;
  readonly action_id?: string;
  readonly dry_run?: boolean;
  /** What the policy decided (also for a dry run: what it would do). */
  readonly decision?: { verdict: string; code: string; message: string; rule: number | null };
  readonly message?: string;
  /** True when this id was seen before: the answer repeats, nothing ran again. */
  readonly duplicate?: boolean;
  readonly retry_after_s?: number;
  readonly error?: CommandError;
}

/** An error answer: `{ ok: false, error: { code, field, message } }`. */
export function errorAnswer(
  action: string,
  id: string | null,
  error: CommandError,
  extra: Partial<Answer> = {},
): Answer {
  return { ok: false, id, action, ...extra, error };
}
