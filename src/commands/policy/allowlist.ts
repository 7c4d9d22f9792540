import { matchRule } from './rules.js';
import type { PolicyHook } from './types.js';

/** The first matching `policy[]` rule allows, asks or denies; no rule at all denies. */
export const allowlist: PolicyHook = {
  name: 'allowlist',
  check(req, ctx) {
    const m = matchRule(ctx.rules, req.action, req.target);
    if (!m) {
      return {
        kind: 'deny',
        code: 'not_allowed',
        message: `no policy rule allows ${req.action} on ${req.target} (default deny)`,
      };
    }
    if (m.rule.decision === 'deny') {
      return {
        kind: 'deny',
        code: 'denied',
        message: `policy[${m.index}] denies ${req.action} on ${req.target}`,
      };
    }
    return { kind: 'pass', note: `policy[${m.index}] ${m.rule.decision}` };
  },
};
