import { allowlist } from './allowlist.js';
import { approval } from './approval.js';
import { budget } from './budget.js';
import { flapping } from './flapping.js';
import { identity } from './identity.js';
import { maintenance } from './maintenance.js';
import { matchRule } from './rules.js';
import type { Decision, PolicyContext, PolicyHook, PolicyRequest, TrailEntry } from './types.js';

export type * from './types.js';
export {
  globMatches,
  matchRule,
  offersAction,
  offersRestart,
  selfHealMode,
  type PolicyRule,
  type SelfHealMode,
} from './rules.js';

/**
 * The fixed order (STYLE.md §5): who is asking, what may be done, who must approve, how
 * often, how stable, when.
 */
export const HOOKS: readonly PolicyHook[] = [
  identity,
  allowlist,
  approval,
  budget,
  flapping,
  maintenance,
];

/**
 * Runs every hook in order. The first deny decides; otherwise any hook asking for a human
 * makes the verdict `approve`; otherwise `allow`. The trail records what each hook said.
 */
export function decide(
  req: PolicyRequest,
  ctx: PolicyContext,
  hooks: readonly PolicyHook[] = HOOKS,
): Decision {
  const trail: TrailEntry[] = [];
  let ask: { code: string; message: string } | undefined;
  const rule = matchRule(ctx.rules, req.action, req.target)?.index ?? null;
  for (const hook of hooks) {
    const r = hook.check(req, ctx);
    if (r.kind === 'pass') {
      trail.push({ hook: hook.name, result: 'pass', ...(r.note ? { message: r.note } : {}) });
      continue;
    }
    trail.push({ hook: hook.name, result: r.kind, code: r.code, message: r.message });
    if (r.kind === 'deny') {
      return {
        verdict: 'deny',
        code: r.code,
        message: r.message,
        rule,
        trail,
        ...(r.retryAt !== undefined ? { retryAt: r.retryAt } : {}),
      };
    }
    ask ??= r;
  }
  if (ask) return { verdict: 'approve', code: ask.code, message: ask.message, rule, trail };
  const message = `${req.action} on ${req.target} allowed by policy[${rule ?? '?'}]`;
  return { verdict: 'allow', code: 'allowed', message, rule, trail };
}
