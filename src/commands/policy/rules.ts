import type { PolicyRuleConfig } from '../../config/schema.js';
import type { CommandAction } from '../../core/topics.js';

/** One policy rule as configured (`policy[]`), with its position for the audit trail. */
export type PolicyRule = PolicyRuleConfig;
export type SelfHealMode = PolicyRule['self_heal'];

export interface RuleMatch {
  readonly rule: PolicyRule;
  readonly index: number;
}

const compiled = new Map<string, RegExp>();

/** `*` any run of characters (slashes included), `?` one; everything else literal. */
export function globMatches(glob: string, text: string): boolean {
  let re = compiled.get(glob);
  if (!re) {
    const body = [...glob]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    compiled.set(glob, re);
  }
  return re.test(text);
}

/** The first rule whose action and target match; none means default deny. */
export function matchRule(
  rules: readonly PolicyRule[],
  action: CommandAction,
  target: string,
): RuleMatch | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.action !== '*' && rule.action !== action) continue;
    if (globMatches(rule.target, target)) return { rule, index: i };
  }
  return undefined;
}

/** The self-healing mode of a container target: its restart rule's, `off` without one. */
export function selfHealMode(rules: readonly PolicyRule[], target: string): SelfHealMode {
  const m = matchRule(rules, 'restart_container', target);
  return m && m.rule.decision !== 'deny' ? m.rule.self_heal : 'off';
}

/**
 * Whether a restart button makes sense for a container: some rule lets a restart of it
 * through (at once or after approval). Pure, so discovery can ask without an agent.
 */
export function offersRestart(rules: readonly PolicyRule[], host: string, name: string): boolean {
  return offersAction(rules, 'restart_container', `${host}/${name}`);
}

/** Whether some rule lets `action` on `target` through, at once or after approval. */
export function offersAction(
  rules: readonly PolicyRule[],
  action: CommandAction,
  target: string,
): boolean {
  const m = matchRule(rules, action, target);
  return m !== undefined && m.rule.decision !== 'deny';
}
