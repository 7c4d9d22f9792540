import { z } from 'zod';
import { EXEC_ACTIONS, type ExecAction, type Origin } from './command.js';
import type { Decision } from './policy/types.js';

/**
 * An action's lifecycle (DESIGN.md "Topics"): pending → approved → running → completed /
 * failed, or rejected / expired. The record is what the store keeps and what is
 * published retained on `<base>/<node>/actions/<id>` (snake_case: it is MQTT JSON).
 */

export const ACTION_STATUSES = [
  'pending',
  'approved',
  'running',
  'completed',
  'failed',
  'rejected',
  'expired',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Which status may follow which; anything else is a bug, refused loudly. */
const NEXT: Record<ActionStatus, readonly ActionStatus[]> = {
  pending: ['approved', 'rejected', 'expired'],
  approved: ['running', 'rejected', 'failed'],
  running: ['completed', 'failed'],
  completed: [],
  failed: [],
  rejected: [],
  expired: [],
};

export function isFinal(status: ActionStatus): boolean {
  return NEXT[status].length === 0;
}

const historyEntry = z.strictObject({
  status: z.enum(ACTION_STATUSES),
  at: z.string(),
  by: z.string().nullable(),
  note: z.string().nullable(),
});

export const actionRecordSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  action: z.enum(EXEC_ACTIONS),
  target: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
  status: z.enum(ACTION_STATUSES),
  origin: z.enum(['mqtt', 'self_heal', 'api']),
  requested_by: z.string().nullable(),
  reason: z.string().nullable(),
  /** The policy's reason for holding it (approval_required, over_budget) or allowing it. */
  decision: z.strictObject({ code: z.string(), message: z.string(), rule: z.number().nullable() }),
  created_at: z.string(),
  updated_at: z.string(),
  /** When a pending action expires. */
  expires_at: z.string().nullable(),
  result: z
    .strictObject({
      ok: z.boolean(),
      message: z.string(),
      data: z.record(z.string(), z.unknown()).optional(),
    })
    .nullable(),
  history: z.array(historyEntry),
  /** Command fingerprint, so a reused id with a different command is refused. */
  fingerprint: z.string(),
});
export type ActionRecord = z.output<typeof actionRecordSchema>;

export class IllegalTransition extends Error {}

/** The record moved to `to` at `at` (ISO), with who and why in its history. */
export function transition(
  rec: ActionRecord,
  to: ActionStatus,
  at: string,
  by: string | null,
  note: string | null,
  result?: ActionRecord['result'],
): ActionRecord {
  if (!NEXT[rec.status].includes(to)) {
    throw new IllegalTransition(`action ${rec.id}: ${rec.status} → ${to} is not a lifecycle step`);
  }
  return {
    ...rec,
    status: to,
    updated_at: at,
    ...(result !== undefined ? { result } : {}),
    history: [...rec.history, { status: to, at, by, note }],
  };
}

/** What the pending-actions select shows when none is chosen; choosing it clears the choice. */
export const NO_SELECTION = '(none)';

/**
 * How a pending action appears among the select's options: what, on what, and its id, so
 * no two options are alike and the option names the action it approves.
 */
export function approvalOption(a: { id: string; action: string; target: string }): string {
  return `${a.action.replace(/_/g, ' ')} ${a.target} (${a.id})`;
}

/**
 * The retained summary behind the pending-actions sensor and select: count, the list as
 * attributes, and the action chosen in the select while it is pending.
 */
export interface PendingSummary {
  pending: number;
  actions: {
    id: string;
    action: ExecAction;
    target: string;
    requested_by: string | null;
    reason: string | null;
    why: string;
    created_at: string;
    expires_at: string | null;
  }[];
  selected: { id: string; option: string } | null;
}

export function pendingSummary(
  records: Iterable<ActionRecord>,
  selectedId?: string,
): PendingSummary {
  const actions = oldestFirst([...records].filter((r) => r.status === 'pending')).map((r) => ({
    id: r.id,
    action: r.action,
    target: r.target,
    requested_by: r.requested_by,
    reason: r.reason,
    why: r.decision.message,
    created_at: r.created_at,
    expires_at: r.expires_at,
  }));
  const chosen = actions.find((a) => a.id === selectedId);
  const selected = chosen ? { id: chosen.id, option: approvalOption(chosen) } : null;
  return { pending: actions.length, actions, selected };
}

/** Oldest first (ids, which sort by time, break ties): the order `oldest` picks from. */
export function oldestFirst(records: readonly ActionRecord[]): ActionRecord[] {
  return [...records].sort(
    (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
  );
}

/** The published form: the record without its internal fingerprint. */
export function actionPayload(rec: ActionRecord): Omit<ActionRecord, 'fingerprint'> {
  const { fingerprint: _f, ...rest } = rec;
  return rest;
}

/** A new action as the service hands it over to the runner. */
export interface NewAction {
  id: string;
  action: ExecAction;
  target: string;
  args: Readonly<Record<string, unknown>>;
  origin: Origin;
  requestedBy: string | null;
  reason: string | null;
  fingerprint: string;
}

/** A new action's first record: pending (held for a human) or approved (by the policy). */
export function newRecord(
  a: NewAction,
  status: 'pending' | 'approved',
  decision: Decision,
  now: number,
  expires: number | null,
  by: string | null,
): ActionRecord {
  const at = new Date(now).toISOString();
  return {
    id: a.id,
    action: a.action,
    target: a.target,
    args: { ...a.args },
    status,
    origin: a.origin,
    requested_by: a.requestedBy,
    reason: a.reason,
    decision: { code: decision.code, message: decision.message, rule: decision.rule },
    created_at: at,
    updated_at: at,
    expires_at: expires === null ? null : new Date(expires).toISOString(),
    result: null,
    history: [{ status, at, by, note: decision.message }],
    fingerprint: a.fingerprint,
  };
}
