import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { POLICY_STATE_FILE } from '../../../src/commands/policy-memory.js';
import { policyState } from '../../../src/commands/policy-state.js';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { configWith } from './harness.js';

const MIN = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const tick = () => new Promise((r) => setImmediate(r));

/** Restart budgets and flap state survive a restart of the agent (issue #14). */
describe('the policy’s memory across restarts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('policy-memory');
  });
  afterEach(() => removeTempDir(dir));
  const state = (clock: ManualClock) =>
    policyState(configWith(dir), clock, silentLogger(), () => 0.5);

  it('a restarted agent keeps the attempts spent, the backoff and the grace', async () => {
    const clock = new ManualClock(T0);
    const before = state(clock);
    for (const at of [0, 10_000, 30_000]) {
      clock.advance(at - (clock.now() - T0));
      before.budgets.recordAttempt('local/web', clock.now());
    }
    await tick();
    expect(before.budgets.status('local/web', clock.now())).toMatchObject({
      kind: 'over',
      used: 3,
    });
    const after = state(clock);
    expect(after.budgets.status('local/web', clock.now())).toEqual({ kind: 'over', used: 3 });
    expect(after.budgets.inGrace('local/web', clock.now())).toBe(true);
    expect(
      after.decide({
        action: 'restart_container',
        target: 'local/web',
        origin: 'self_heal',
        automatic: true,
      }),
    ).toMatchObject({ verdict: 'deny' });
    // The window still lapses on its own: 30 min after the first attempt one is free again.
    clock.advance(30 * MIN - 25_000);
    expect(after.budgets.status('local/web', clock.now())).toMatchObject({ used: 2 });
    // The backoff goes on doubling from where it was: 10 s, 20 s, 40 s, then 80 s (each
    // less the fixed jitter's 10 %).
    after.budgets.recordAttempt('local/web', clock.now());
    expect(after.budgets.nextAllowedAt('local/web', clock.now())).toBe(clock.now() + 72_000);
  });

  it('a restarted agent still knows a target is flapping, and when it will settle', async () => {
    const clock = new ManualClock(T0);
    const before = state(clock);
    for (let i = 0; i < 6; i++) {
      before.flaps.record('local/crashy', i % 2 === 1, clock.now());
      clock.advance(10_000);
    }
    await tick();
    expect(before.flaps.isFlapping('local/crashy', clock.now())).toBe(true);
    const saved = JSON.parse(await readFile(join(dir, POLICY_STATE_FILE), 'utf8')) as {
      flaps: { target: string; flapping: boolean }[];
    };
    expect(saved.flaps).toMatchObject([{ target: 'local/crashy', flapping: true }]);
    const after = state(clock);
    expect(after.flaps.flappingTargets()).toEqual(['local/crashy']);
    expect(after.flaps.settlesAt('local/crashy')).toBe(before.flaps.settlesAt('local/crashy'));
  });
});
