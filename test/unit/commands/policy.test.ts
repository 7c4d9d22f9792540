import { describe, expect, it } from 'vitest';
import { FlapDetector } from '../../../src/commands/flap-detector.js';
import {
  decide,
  globMatches,
  type PolicyContext,
  type PolicyRule,
} from '../../../src/commands/policy/index.js';
import { RestartBudgets } from '../../../src/commands/restart-budget.js';
import { Suppressions } from '../../../src/commands/suppressions.js';

const MIN = 60_000;

const rule = (r: Partial<PolicyRule> & Pick<PolicyRule, 'decision'>): PolicyRule => ({
  action: 'restart_container',
  target: '*',
  self_heal: 'off',
  self_approve: false,
  ...r,
});

function context(rules: PolicyRule[], now = 0, anonymousCommands = false) {
  const budget = new RestartBudgets({
    max: 3,
    windowMs: 30 * MIN,
    resetAfterMs: 10 * MIN,
    backoffInitialMs: 10_000,
    backoffMaxMs: 5 * MIN,
    graceMs: 2 * MIN,
    random: () => 0.5,
  });
  const flapping = new FlapDetector({ changes: 5, windowMs: 10 * MIN });
  const suppression = new Suppressions();
  const ctx: PolicyContext = { now, rules, anonymousCommands, budget, flapping, suppression };
  return { ctx, budget, flapping, suppression };
}

const restart = {
  action: 'restart_container' as const,
  target: 'local/web',
  origin: 'mqtt' as const,
  automatic: false,
};
const auto = { ...restart, origin: 'self_heal' as const, automatic: true };

describe('policy', () => {
  it('denies by default and says so', () => {
    const d = decide(restart, context([]).ctx);
    expect(d).toMatchObject({ verdict: 'deny', code: 'not_allowed', rule: null });
    expect(d.message).toMatch(/default deny/);
    expect(d.trail).toEqual([
      expect.objectContaining({ hook: 'identity', result: 'pass' }),
      expect.objectContaining({ hook: 'allowlist', result: 'deny' }),
    ]);
  });

  it('refuses anonymous MQTT logins unless anonymous_commands says so; others pass', () => {
    const rules = [rule({ target: 'local/*', decision: 'allow' })];
    const anon = { ...restart, sender: 'anonymous' };
    const d = decide(anon, context(rules).ctx);
    expect(d).toMatchObject({ verdict: 'deny', code: 'not_allowed', rule: 0 });
    expect(d.message).toMatch(/anonymous clients may not command.*broker\.users/);
    expect(decide(anon, context(rules, 0, true).ctx).verdict).toBe('allow');
    expect(decide({ ...restart, sender: 'alice' }, context(rules).ctx).verdict).toBe('allow');
    // An external broker cannot tell who published: its own ACL decides (docs/commands.md).
    expect(decide(restart, context(rules).ctx).verdict).toBe('allow');
    // Self-healing and the approval API are not MQTT logins.
    expect(decide({ ...auto, sender: 'anonymous' }, context(rules).ctx).verdict).toBe('allow');
  });

  it('takes the first matching rule by action and target glob', () => {
    const rules = [
      rule({ target: 'nas/*', decision: 'approve' }),
      rule({ target: 'local/db*', decision: 'deny' }),
      rule({ target: 'local/*', decision: 'allow' }),
    ];
    const { ctx } = context(rules);
    expect(decide(restart, ctx)).toMatchObject({ verdict: 'allow', rule: 2 });
    expect(decide({ ...restart, target: 'local/db-1' }, ctx)).toMatchObject({
      verdict: 'deny',
      code: 'denied',
      rule: 1,
    });
    expect(decide({ ...restart, target: 'nas/radarr' }, ctx)).toMatchObject({
      verdict: 'approve',
      code: 'approval_required',
      rule: 0,
    });
    expect(decide({ ...restart, action: 'stop_container' }, ctx).verdict).toBe('deny');
    expect(decide({ ...restart, target: 'nas/radarr', approvedBy: 'ops' }, ctx).verdict).toBe(
      'allow',
    );
  });

  it('globs: * spans anything, ? one character, the rest is literal', () => {
    expect(globMatches('local/*', 'local/a.b-c')).toBe(true);
    expect(globMatches('*', 'nas/x')).toBe(true);
    expect(globMatches('local/web?', 'local/web1')).toBe(true);
    expect(globMatches('local/web?', 'local/web')).toBe(false);
    expect(globMatches('local/a.b', 'local/aXb')).toBe(false);
  });

  it('asks a human for self-healing in ask mode, not for people', () => {
    const { ctx } = context([rule({ decision: 'allow', self_heal: 'ask' })]);
    expect(decide(auto, ctx)).toMatchObject({ verdict: 'approve', code: 'approval_required' });
    expect(decide(restart, ctx).verdict).toBe('allow');
  });

  it('restart budget: backoff between attempts, then approval over budget', () => {
    const { ctx, budget } = context([rule({ decision: 'allow' })]);
    const at = (now: number) => ({ ...ctx, now });
    budget.recordAttempt('local/web', 0);
    const held = decide(restart, at(5_000));
    expect(held).toMatchObject({ verdict: 'deny', code: 'backoff', retryAt: 9_000 });
    expect(decide(restart, at(9_000)).verdict).toBe('allow');
    budget.recordAttempt('local/web', 9_000);
    budget.recordAttempt('local/web', 40_000);
    expect(decide(restart, at(10 * MIN))).toMatchObject({
      verdict: 'approve',
      code: 'over_budget',
    });
    expect(decide({ ...restart, approvedBy: 'ops' }, at(10 * MIN)).verdict).toBe('allow');
    // The window slides: the first attempt falls out after 30 min.
    expect(decide(restart, at(30 * MIN + 1)).verdict).toBe('allow');
  });

  it('flapping and maintenance stop automatic actions only', () => {
    const { ctx, flapping, suppression } = context([
      rule({ decision: 'allow', self_heal: 'auto' }),
    ]);
    for (let i = 0; i < 6; i++) flapping.record('local/web', i % 2 === 0, i * 1000);
    expect(decide(auto, { ...ctx, now: 6_000 })).toMatchObject({
      verdict: 'deny',
      code: 'flapping',
    });
    expect(decide(restart, { ...ctx, now: 6_000 }).verdict).toBe('allow');
    suppression.setMaintenance('local', true, null, 'ops');
    const d = decide({ ...auto, target: 'local/other' }, ctx);
    expect(d).toMatchObject({ verdict: 'deny', code: 'suppressed' });
    expect(d.trail.map((t) => t.hook)).toEqual([
      'identity',
      'allowlist',
      'approval',
      'budget',
      'flapping',
      'maintenance',
    ]);
  });
});

describe('RestartBudgets', () => {
  const budgets = () =>
    new RestartBudgets({
      max: 3,
      windowMs: 30 * MIN,
      resetAfterMs: 10 * MIN,
      backoffInitialMs: 10_000,
      backoffMaxMs: 5 * MIN,
      graceMs: 2 * MIN,
      random: () => 1,
    });

  it('doubles the backoff from 10 s up to the 5 min cap (jitter at its top)', () => {
    const b = new RestartBudgets({
      max: 100,
      windowMs: 3_600_000,
      resetAfterMs: 10 * MIN,
      backoffInitialMs: 10_000,
      backoffMaxMs: 5 * MIN,
      graceMs: 0,
      random: () => 1,
    });
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      b.recordAttempt('t', now);
      const s = b.status('t', now);
      waits.push(s.kind === 'backoff' ? s.retryAt - now : 0);
      now += 10 * MIN;
    }
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('jitters within ±20 %', () => {
    const b = new RestartBudgets({
      max: 3,
      windowMs: MIN,
      resetAfterMs: MIN,
      backoffInitialMs: 10_000,
      backoffMaxMs: MIN,
      graceMs: 0,
      random: () => 0,
    });
    b.recordAttempt('t', 0);
    expect(b.status('t', 0)).toEqual({ kind: 'backoff', used: 1, retryAt: 8_000 });
  });

  it('has a grace period after each restart', () => {
    const b = budgets();
    b.recordAttempt('t', 1000);
    expect(b.inGrace('t', 1000 + 2 * MIN - 1)).toBe(true);
    expect(b.graceEnds('t', 2000)).toBe(1000 + 2 * MIN);
    expect(b.inGrace('t', 1000 + 2 * MIN)).toBe(false);
  });

  it('resets after the target stays healthy for reset_after, or by an operator', () => {
    const b = budgets();
    for (const at of [0, 20_000, 60_000]) b.recordAttempt('t', at);
    expect(b.status('t', 2 * MIN).kind).toBe('over');
    b.healthy('t', 2 * MIN);
    expect(b.status('t', 11 * MIN).kind).toBe('over');
    b.unhealthy('t');
    b.healthy('t', 11 * MIN);
    expect(b.status('t', 21 * MIN)).toEqual({ kind: 'ok', used: 0 });
    for (const at of [0, 20_000, 60_000]) b.recordAttempt('u', at);
    b.reset('u');
    expect(b.status('u', 61_000)).toEqual({ kind: 'ok', used: 0 });
  });
});

describe('FlapDetector', () => {
  it('reports flapping once at the fifth change in the window, settles after a quiet window', () => {
    const f = new FlapDetector({ changes: 5, windowMs: 10 * MIN });
    const seen: unknown[] = [];
    f.record('t', true, 0);
    for (let i = 1; i <= 7; i++) seen.push(f.record('t', i % 2 === 0, i * MIN));
    expect(seen).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      'started',
      undefined,
      undefined,
    ]);
    expect(f.isFlapping('t', 8 * MIN)).toBe(true);
    expect(f.settlesAt('t')).toBe(17 * MIN);
    expect(f.check('t', 17 * MIN - 1)).toBeUndefined();
    expect(f.check('t', 17 * MIN)).toBe('settled');
    expect(f.isFlapping('t', 17 * MIN)).toBe(false);
  });

  it('does not count changes in a grace period, nor repeats of one state', () => {
    const f = new FlapDetector({ changes: 3, windowMs: 10 * MIN });
    f.record('t', true, 0);
    for (let i = 1; i <= 6; i++) f.record('t', i % 2 === 0, i, false);
    f.record('t', true, 7);
    f.record('t', true, 8);
    expect(f.isFlapping('t', 9)).toBe(false);
  });

  it('holds only targets down or changed within the window; a first report is a baseline', () => {
    const f = new FlapDetector({ changes: 2, windowMs: 10 * MIN });
    for (let i = 0; i < 100; i++) f.record(`up-${i}`, true, 0, true, true);
    expect(f.held).toBe(0);
    // First seen down: a baseline, so coming up is its only change.
    f.record('new', false, 0, true, true);
    expect(f.record('new', true, MIN)).toBeUndefined();
    // Seen up before (not held): going down is a change, coming up the second.
    expect(f.record('up-1', false, MIN)).toBeUndefined();
    expect(f.record('up-1', true, 2 * MIN)).toBe('started');
    expect(f.held).toBe(2);
    // A report after a quiet window lets go of a target that is up and settled.
    expect(f.record('new', true, 11 * MIN + 1)).toBeUndefined();
    expect(f.record('up-1', true, 12 * MIN)).toBe('settled');
    expect(f.held).toBe(0);
    expect(f.isFlapping('up-1', 12 * MIN)).toBe(false);
  });

  it('spreads over more than the window: no flapping', () => {
    const f = new FlapDetector({ changes: 5, windowMs: 10 * MIN });
    for (let i = 0; i <= 10; i++) f.record('t', i % 2 === 0, i * 3 * MIN);
    expect(f.isFlapping('t', 31 * MIN)).toBe(false);
  });
});
