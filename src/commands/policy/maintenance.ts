import { pass, type PolicyHook } from './types.js';

/**
 * Maintenance, a silence, or the quiet time after a planned restart: no automatic actions
 * for the target. People may still act (that is what maintenance is for).
 */
export const maintenance: PolicyHook = {
  name: 'maintenance',
  check(req, ctx) {
    if (!req.automatic) return pass;
    const why = ctx.suppression.reason(req.target, ctx.now);
    if (why === undefined) return pass;
    return {
      kind: 'deny',
      code: 'suppressed',
      message: `${req.target} is suppressed (${why}): no automatic actions`,
    };
  },
};
