import { needsApproval } from './approval.js';
import { pass, type PolicyHook } from './types.js';

/**
 * The restart budget of a target: over it, restarts need a human; between attempts, the
 * backoff holds the next one. Only restarts count, and a human's approval overrides both.
 */
export const budget: PolicyHook = {
  name: 'budget',
  check(req, ctx) {
    if (req.action !== 'restart_container' || req.approvedBy !== undefined) return pass;
    const s = ctx.budget.status(req.target, ctx.now);
    if (s.kind === 'over') {
      return {
        kind: 'approve',
        code: 'over_budget',
        message: `${req.target} was restarted ${s.used} times within the budget window: a human decides the next restart`,
      };
    }
    // The backoff paces restarts nobody looks at; one a human approves waits for that instead.
    if (s.kind === 'backoff' && !needsApproval(req, ctx)) {
      const wait = Math.max(1, Math.ceil((s.retryAt - ctx.now) / 1000));
      return {
        kind: 'deny',
        code: 'backoff',
        message: `${req.target} was restarted ${s.used} times recently: next restart in ${wait} s`,
        retryAt: s.retryAt,
      };
    }
    return { kind: 'pass', note: `${s.used} restarts in the window` };
  },
};
