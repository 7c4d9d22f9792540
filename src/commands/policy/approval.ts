import { matchRule } from './rules.js';
import { pass, type PolicyContext, type PolicyHook, type PolicyRequest } from './types.js';

/** Whether a human has to approve this request by rule or by self-healing's ask mode. */
export function needsApproval(req: PolicyRequest, ctx: PolicyContext): boolean {
  if (req.approvedBy !== undefined) return false;
  const m = matchRule(ctx.rules, req.action, req.target);
  return m?.rule.decision === 'approve' || (req.automatic && m?.rule.self_heal === 'ask');
}

/**
 * A human decides: when the rule says `approve`, or when self-healing is in `ask` mode.
 * An action a human already approved passes.
 */
export const approval: PolicyHook = {
  name: 'approval',
  check(req, ctx) {
    if (req.approvedBy !== undefined)
      return { kind: 'pass', note: `approved by ${req.approvedBy}` };
    const m = matchRule(ctx.rules, req.action, req.target);
    if (m?.rule.decision === 'approve') {
      return {
        kind: 'approve',
        code: 'approval_required',
        message: `policy[${m.index}] needs a human to approve ${req.action} on ${req.target}`,
      };
    }
    if (req.automatic && m?.rule.self_heal === 'ask') {
      return {
        kind: 'approve',
        code: 'approval_required',
        message: `self-healing of ${req.target} is in ask mode (policy[${m.index}])`,
      };
    }
    return pass;
  },
};
