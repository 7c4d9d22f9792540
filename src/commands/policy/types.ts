import type { CommandAction } from '../../core/topics.js';
import type { Origin } from '../command.js';
import type { PolicyRule } from './rules.js';

/**
 * Policy as small deny-by-default hooks (STYLE.md §5, after aedes' authorize* hooks):
 * each hook looks at one concern and passes, asks for a human, or denies. policy/index.ts
 * composes them in a fixed order; every decision is audited with the trail of all hooks.
 */

export interface PolicyRequest {
  readonly action: CommandAction;
  readonly target: string;
  readonly origin: Origin;
  /** Self-healing acting on its own, not a person or a script asking. */
  readonly automatic: boolean;
  /** A human approved this very action (approve command, HA, Telegram). */
  readonly approvedBy?: string;
  /** Who the channel says asked (the embedded broker's login); undefined where it cannot tell. */
  readonly sender?: string;
}

/** What the hooks may read; all of it is state owned elsewhere, seen at `now`. */
export interface PolicyContext {
  readonly now: number;
  readonly rules: readonly PolicyRule[];
  /** `remediation.anonymous_commands`: anonymous logins may command. */
  readonly anonymousCommands: boolean;
  readonly budget: { status(target: string, now: number): BudgetStatus };
  readonly flapping: { isFlapping(target: string, now: number): boolean };
  readonly suppression: { reason(target: string, now: number): string | undefined };
}

export type BudgetStatus =
  | { readonly kind: 'ok'; readonly used: number }
  | { readonly kind: 'over'; readonly used: number }
  | { readonly kind: 'backoff'; readonly used: number; readonly retryAt: number };

export type HookResult =
  | { readonly kind: 'pass'; readonly note?: string }
  | { readonly kind: 'approve'; readonly code: string; readonly message: string }
  | {
      readonly kind: 'deny';
      readonly code: DenyCode;
      readonly message: string;
      readonly retryAt?: number;
    };

export type DenyCode = 'not_allowed' | 'denied' | 'backoff' | 'flapping' | 'suppressed';

export interface PolicyHook {
  readonly name: string;
  check(req: PolicyRequest, ctx: PolicyContext): HookResult;
}

export type Verdict = 'allow' | 'approve' | 'deny';

export interface TrailEntry {
  readonly hook: string;
  readonly result: HookResult['kind'];
  readonly code?: string;
  readonly message?: string;
}

/** The composed decision, as audited and answered. */
export interface Decision {
  readonly verdict: Verdict;
  /** `allowed`, `approval_required`, `over_budget`, or the deny code. */
  readonly code: string;
  readonly message: string;
  /** Index of the matching `policy[]` rule, null when none matched. */
  readonly rule: number | null;
  readonly retryAt?: number;
  readonly trail: readonly TrailEntry[];
}

export const pass: HookResult = { kind: 'pass' };
