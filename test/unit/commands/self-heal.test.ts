import { describe, expect, it } from 'vitest';
import type { ContainerView } from '../../../src/state/container-view.js';
import { containerView } from './container-view.js';
import { FullDiskStore, message, remediationSession } from './harness.js';

const MIN = 60_000;
const START = Date.parse('2026-01-01T00:00:00Z');

const rules = (selfHeal: 'off' | 'ask' | 'auto', decision = 'allow') => ({
  policy: [
    { action: 'restart_container', target: 'local/*', decision, self_heal: selfHeal },
    { action: 'maintenance', decision: 'allow' },
  ],
  remediation: { approvers: ['telegram:1001'] },
});

describe('self-healing', () => {
  const r = remediationSession('self-heal', START);
  const { start } = r;
  /** Lets the async command path (audit flushes on setImmediate) run to its end. */
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  /** Moves time in steps, letting each command finish before the next timer. */
  const pass = async (ms: number, step = 1_000) => {
    for (let t = 0; t < ms; t += step) {
      r.clock.advance(Math.min(step, ms - t));
      await settle();
    }
  };
  const feed = async (
    name: string,
    state: 'running' | 'exited',
    alert: ContainerView['alert'] = 'ok',
  ) => {
    r.b!.rem.onContainer('local', name, containerView(name, state, { alert }));
    r.clock.advance(0);
    await settle();
  };
  const types = () => r.b!.events.map((e) => `${e.type}${e.data?.notify ? '!' : ''}`);

  it('off: a down container is left alone', async () => {
    await start(rules('off'));
    await feed('web', 'exited', 'down');
    await pass(10 * MIN, 30_000);
    expect(r.b!.exec.runs).toEqual([]);
    expect(r.b!.events).toEqual([]);
  });

  it('ask: a container down past its threshold gets one pending restart and a notification', async () => {
    await start(rules('ask'));
    await feed('web', 'exited', 'down');
    await feed('web', 'exited', 'down');
    expect(r.b!.exec.runs).toEqual([]);
    expect(r.b!.rem.api.pending()).toEqual([
      expect.objectContaining({
        action: 'restart_container',
        target: 'local/web',
        origin: 'self_heal',
        requested_by: 'self-heal',
      }),
    ]);
    expect(types()).toEqual(['remediation_pending!']);
    const [p] = r.b!.rem.api.pending();
    expect(await r.b!.rem.api.approve(p!.id, 'telegram:1001')).toMatchObject({
      ok: true,
      status: 'completed',
    });
    expect(r.b!.exec.runs).toHaveLength(1);
    // Every line of the action's story names it, from the first (issue 14).
    expect((await r.audit()).map((e) => [e.kind, e.who, e.outcome, e.action_id === p!.id])).toEqual(
      [
        ['command', 'self-heal', 'received', true],
        ['decision', 'self-heal', 'approve', true],
        ['command', 'telegram:1001', 'received', true],
        ['approval', 'telegram:1001', 'approved', true],
        ['result', 'agent', 'completed', true],
      ],
    );
  });

  it('auto: retries with backoff within the budget, then leaves it to a human', async () => {
    await start(rules('auto'));
    r.b!.exec.outcome = () => Promise.resolve({ ok: false, message: 'exited again' });
    await feed('web', 'exited', 'down');
    expect(r.b!.exec.runs).toHaveLength(1);
    // Failed: the next attempt waits out the backoff (10 s doubling, jitter fixed at -10 %).
    await pass(8_000);
    expect(r.b!.exec.runs).toHaveLength(1);
    await pass(1_000);
    expect(r.b!.exec.runs).toHaveLength(2);
    await pass(17_000);
    expect(r.b!.exec.runs).toHaveLength(2);
    await pass(1_000);
    expect(r.b!.exec.runs).toHaveLength(3);
    // Over budget (3 in 30 min): left alone, an alert, and a human decides the next one.
    await pass(10 * MIN, 10_000);
    expect(r.b!.exec.runs).toHaveLength(3);
    expect(r.b!.rem.api.pending()).toEqual([
      expect.objectContaining({ decision: expect.objectContaining({ code: 'over_budget' }) }),
    ]);
    expect(types()).toEqual([
      ...Array<string[]>(3).fill(['remediation_started', 'remediation_failed!']).flat(),
      'remediation_pending!',
    ]);
  });

  it('auto on a full disk: a refused restart is looked at again a minute later, not at once', async () => {
    const store = new FullDiskStore();
    store.full = true;
    await start(rules('auto'), store);
    await feed('web', 'exited', 'down');
    const attempts = async () =>
      (await r.audit()).filter((e) => e.action === 'restart_container' && e.kind === 'command')
        .length;
    await pass(50_000);
    expect(await attempts()).toBe(1);
    expect(r.b!.exec.runs).toEqual([]);
    store.full = false;
    await pass(10_000);
    expect(await attempts()).toBe(2);
    expect(r.b!.exec.runs).toHaveLength(1);
  });

  it('auto: silent when the restart works; waits for down_after and the grace period', async () => {
    await start(rules('auto'));
    await feed('web', 'running');
    // Not yet alerted by the tracker: the loop waits containers.down_after (5 min) itself.
    await feed('web', 'exited', 'ok');
    await pass(5 * MIN - 1_000, 10_000);
    expect(r.b!.exec.runs).toEqual([]);
    await pass(1_000);
    expect(r.b!.exec.runs).toHaveLength(1);
    expect(r.b!.events.every((e) => e.data?.notify === false)).toBe(true);
    await feed('web', 'running');
    // Down again within the grace period (2 min): nothing until it ends.
    await pass(30_000, 10_000);
    await feed('web', 'exited', 'down');
    expect(r.b!.exec.runs).toHaveLength(1);
    await pass(90_000 - 1_000, 5_000);
    expect(r.b!.exec.runs).toHaveLength(1);
    await pass(2_000);
    expect(r.b!.exec.runs).toHaveLength(2);
  });

  it('maintenance holds automatic actions', async () => {
    await start(rules('auto'));
    await r.b!.rem.router.handle(message('maintenance', { target: 'local', enabled: true }));
    await feed('web', 'exited', 'down');
    await pass(5 * MIN, 30_000);
    expect(r.b!.exec.runs).toEqual([]);
    await r.b!.rem.router.handle(message('maintenance', { target: 'local', enabled: false }));
    await pass(60_000, 30_000);
    expect(r.b!.exec.runs).toHaveLength(1);
  });

  it('a flapping target: one alert, no automatic actions, until it settles', async () => {
    await start(rules('auto'));
    await feed('web', 'running');
    for (let i = 0; i < 5; i++) {
      r.clock.advance(10_000);
      await feed('web', i % 2 === 0 ? 'exited' : 'running');
    }
    expect(types()).toEqual(['container_flapping!']);
    await feed('web', 'exited', 'down');
    await pass(5 * MIN, 30_000);
    expect(r.b!.exec.runs).toEqual([]);
    await pass(5 * MIN, 30_000);
    expect(types()).toEqual([
      'container_flapping!',
      'container_settled',
      'remediation_started',
      'remediation_completed',
    ]);
    expect(r.b!.exec.runs).toHaveLength(1);
  });

  it('keeps no state for containers that are up and quiet', async () => {
    await start(rules('auto'));
    for (let i = 0; i < 50; i++)
      r.b!.rem.onContainer('local', `c${i}`, containerView(`c${i}`, 'running'), true);
    expect(r.b!.rem.selfHeal.tracked).toBe(0);
    await feed('web', 'exited');
    expect(r.b!.rem.selfHeal.tracked).toBe(1);
    await feed('web', 'running');
    expect(r.b!.rem.selfHeal.tracked).toBe(0);
    await feed('db', 'exited');
    r.b!.rem.onContainer('local', 'db', undefined);
    expect(r.b!.rem.selfHeal.tracked).toBe(0);
    await pass(10 * MIN, 30_000);
    expect(r.b!.exec.runs).toEqual([]);
  });

  it('the tracker event feed works as well', async () => {
    await start(rules('auto'));
    r.b!.rem.onTrackerEvent({
      type: 'container_down',
      severity: 'critical',
      subject: 'local/web',
      data: { host: 'local', name: 'web', key: 'web' },
    });
    r.clock.advance(0);
    await settle();
    expect(r.b!.exec.runs.map((r) => r.target)).toEqual(['local/web']);
  });
});
