import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { systemClock } from '../../../src/core/clock.js';
import { topics } from '../../../src/core/topics.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { build, message, ROOT, type Built } from './harness.js';

const DAY = 86_400_000;

/**
 * Issue 13, point 6: `approval_timeout: 30d` once expired a pending action 6 ms after it
 * was made, as Node fires a timer past 2^31-1 ms at once. A ManualClock never overflowed,
 * so this runs on the real systemClock: the action must still be pending after Node's
 * timers have had many turns, with no TimeoutOverflowWarning.
 */
describe('a pending action with approval_timeout: 30d (real system clock)', () => {
  let dir = '';
  let b: Built | undefined;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  beforeEach(async () => {
    dir = await makeTempDir('long-approval');
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(async () => {
    await b?.rem.stop();
    b = undefined;
    await removeTempDir(dir);
    process.off('warning', onWarning);
  });

  it('is still pending after the first ticks, and expires 30 days after it was made', async () => {
    b = await build({
      dir,
      clock: systemClock,
      config: {
        policy: [{ action: 'restart_container', target: 'local/*', decision: 'approve' }],
        broker: { users: [{ username: 'alice', password: 'pw' }] },
        remediation: { approval_timeout: '30d', approvers: ['alice'] },
      },
    });
    await b.rem.start();
    const before = Date.now();
    const answer = await b.rem.router.handle(
      message('restart_container', { id: 'long', target: 'local/web' }),
    );
    expect(answer).toMatchObject({ ok: true, status: 'pending', action_id: 'long' });

    await new Promise((r) => setTimeout(r, 100)); // the broken timer fired after 1 ms
    const rec = b.wire.retainedJson<ActionRecord>(topics.action(ROOT, 'long'))!;
    expect(rec.status).toBe('pending');
    expect(b.rem.api.pending().map((a) => a.id)).toEqual(['long']);
    expect(b.events.map((e) => e.type)).toEqual(['remediation_pending']);
    const expires = Date.parse(rec.expires_at!);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
  });
});
