import { ANONYMOUS } from '../../core/identity.js';
import { matchRule, type PolicyRule } from './rules.js';

/**
 * Who may decide a held action (issue 13). The identity comes from the channel — the
 * embedded broker's login, the approval API's caller — never from the payload; a claim
 * there (`requested_by`) is only recorded beside it.
 */
export interface Approvers {
  /** `remediation.approvers`. */
  readonly names: readonly string[];
  readonly rules: readonly PolicyRule[];
}

/** The action being decided, as the store holds it. */
export interface HeldAction {
  readonly action: Parameters<typeof matchRule>[1];
  readonly target: string;
  /** The requester's channel identity, when the channel had one. */
  readonly requested_by: string | null;
}

const NO_IDENTITY =
  'this broker cannot tell who published: approve through the embedded broker with a user name, or through Home Assistant or Telegram';

/** Why `who` may not approve `held`, or undefined when it may. */
export function approvalRefusal(
  who: string | undefined,
  held: HeldAction,
  a: Approvers,
): string | undefined {
  const basic = namedApprover(who, a);
  if (basic !== undefined) return basic;
  if (held.requested_by !== who) return undefined;
  const m = matchRule(a.rules, held.action, held.target);
  if (m?.rule.self_approve) return undefined;
  const where = m ? `policy[${m.index}]` : 'its rule';
  return `${who} requested this action and may not approve it too (self_approve: true on ${where} allows it)`;
}

/** Why `who` may not reject `held`: approvers may, and so may its requester (withdrawing it). */
export function rejectionRefusal(
  who: string | undefined,
  held: HeldAction,
  a: Approvers,
): string | undefined {
  if (who !== undefined && who !== ANONYMOUS && held.requested_by === who) return undefined;
  return namedApprover(who, a);
}

/**
 * Why `who` may not choose the selected action: only approvers may, so nobody else can
 * change what an approver's `Approve selected` acts on.
 */
export function selectionRefusal(who: string | undefined, a: Approvers): string | undefined {
  return namedApprover(who, a);
}

function namedApprover(who: string | undefined, a: Approvers): string | undefined {
  if (who === undefined) return NO_IDENTITY;
  if (who === ANONYMOUS) return 'anonymous can never approve or reject';
  if (!a.names.includes(who)) return `${who} is not in remediation.approvers`;
  return undefined;
}
