import { pass, type PolicyHook } from './types.js';

/** A flapping target gets no automatic actions until it settles; people may still act. */
export const flapping: PolicyHook = {
  name: 'flapping',
  check(req, ctx) {
    if (!req.automatic || !ctx.flapping.isFlapping(req.target, ctx.now)) return pass;
    return {
      kind: 'deny',
      code: 'flapping',
      message: `${req.target} is flapping: no automatic actions until it settles`,
    };
  },
};
