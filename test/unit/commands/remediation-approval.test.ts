import { describe, expect, it } from 'vitest';
import { MemoryActionStore } from '../../../src/commands/action-store.js';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { topics } from '../../../src/core/topics.js';
import { build, remediationSession, ROOT } from './harness.js';

const MIN = 60_000;
const START = Date.parse('2026-01-01T00:00:00Z');
const allowLocal = {
  policy: [{ action: 'restart_container', target: 'local/*', decision: 'allow' }],
};
const approveLocal = {
  policy: [{ action: 'restart_container', target: 'local/*', decision: 'approve' }],
  broker: { users: [{ username: 'alice', password: 'pw' }] },
  remediation: { approvers: ['alice', 'telegram:1002'] },
};
/** As the embedded broker hands a message over: with the login that published it. */
const as = (sender: string) => ({ sender });

describe('remediation approvals, budgets and maintenance (in process)', () => {
  const r = remediationSession('remediation', START);
  const { start, send, audit, action } = r;
  const pending = () =>
    r.b!.wire.retainedJson<{ pending: number; actions: unknown[] }>(topics.pendingActions(ROOT));

  it('approval flow: pending, summary, MQTT 5 approve with response topic, run, completed', async () => {
    await start(approveLocal);
    const held = await send('restart_container', { id: 'p1', target: 'local/web', reason: 'hung' });
    expect(held).toMatchObject({ ok: true, status: 'pending', action_id: 'p1' });
    expect(r.b!.exec.runs).toEqual([]);
    expect(pending()).toMatchObject({
      pending: 1,
      actions: [{ id: 'p1', target: 'local/web', reason: 'hung' }],
    });
    expect(r.b!.events.map((e) => [e.type, e.data?.notify])).toEqual([
      ['remediation_pending', true],
    ]);
    const corr = Buffer.from([1, 2, 3]);
    const ok = await send(
      'approve',
      { target: 'p1' },
      { responseTopic: 'app/replies/1', correlationData: corr, sender: 'alice' },
    );
    expect(ok).toMatchObject({ ok: true, status: 'completed', action_id: 'p1' });
    const reply = r.b!.wire.sent.find((m) => m.topic === 'app/replies/1')!;
    expect(JSON.parse(reply.payload)).toEqual(ok);
    expect(reply.opts?.properties?.correlationData).toEqual(corr);
    expect(r.b!.exec.runs).toHaveLength(1);
    expect(action('p1')!.history.map((h) => [h.status, h.by])).toEqual([
      ['pending', 'mqtt'],
      ['approved', 'alice'],
      ['running', 'agent'],
      ['completed', 'agent'],
    ]);
    expect(pending()).toEqual({ pending: 0, actions: [], selected: null });
    expect(await send('approve', { target: 'p1' })).toMatchObject({
      ok: false,
      error: { code: 'not_pending' },
    });
    expect((await audit()).filter((e) => e.kind === 'approval')).toEqual([
      expect.objectContaining({ who: 'alice', outcome: 'approved', action_id: 'p1' }),
    ]);
  });

  it('reject through the API the Telegram bridge calls', async () => {
    await start(approveLocal);
    await send('restart_container', { id: 'p2', target: 'local/web' });
    expect(r.b!.rem.api.pending().map((r) => r.id)).toEqual(['p2']);
    const a = await r.b!.rem.api.reject('p2', 'telegram:1002', 'not now');
    expect(a).toMatchObject({ ok: false, status: 'rejected', error: { code: 'rejected' } });
    expect(action('p2')!.status).toBe('rejected');
    expect(r.b!.exec.runs).toEqual([]);
    expect(await r.b!.rem.api.approve('p2', 'telegram:1002')).toMatchObject({
      error: { code: 'not_pending' },
    });
  });

  it('expires a pending action after approval_timeout', async () => {
    await start(approveLocal);
    await send('restart_container', { id: 'p3', target: 'local/web' });
    r.clock.advance(30 * MIN - 1);
    expect(action('p3')!.status).toBe('pending');
    r.clock.advance(1);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(action('p3')!.status).toBe('expired');
    expect(pending()!.pending).toBe(0);
    expect(r.b!.events.at(-1)).toMatchObject({
      type: 'remediation_failed',
      data: { status: 'expired', notify: true },
    });
    expect(await send('approve', { target: 'p3' })).toMatchObject({
      error: { code: 'not_pending' },
    });
    expect(r.b!.exec.runs).toEqual([]);
  });

  it('pending actions survive a restart; interrupted ones are failed, not rerun', async () => {
    const backing = new Map<string, ActionRecord>();
    await start(approveLocal, new MemoryActionStore(backing));
    await send('restart_container', { id: 'keep', target: 'local/web' });
    await r.b!.rem.stop();
    const running = {
      ...backing.get('keep')!,
      id: 'cut',
      status: 'running' as const,
      fingerprint: 'x',
    };
    backing.set('cut', running);
    r.b = await build({
      dir: r.dir,
      clock: r.clock,
      config: approveLocal,
      store: new MemoryActionStore(backing),
    });
    await r.b.rem.start();
    expect(r.b.rem.api.pending().map((r) => r.id)).toEqual(['keep']);
    expect(backing.get('cut')!.status).toBe('failed');
    expect(r.b.exec.runs).toEqual([]);
    expect(await send('approve', { target: 'keep' }, as('alice'))).toMatchObject({
      ok: true,
      status: 'completed',
    });
    r.clock.advance(30 * MIN);
    expect(backing.get('keep')!.status).toBe('completed');
  });

  it('takes who approves from the connection: anonymous, unknown, unverified and claims are refused', async () => {
    await start(approveLocal);
    await send('restart_container', { id: 'p4', target: 'local/web' }, as('mallory'));
    const tries: [string, Partial<Parameters<typeof send>[2]>, RegExp][] = [
      ['anonymous', as('anonymous'), /anonymous can never approve/],
      ['no identity (external broker)', {}, /cannot tell who published/],
      ['not an approver', as('mallory'), /mallory is not in remediation.approvers/],
    ];
    for (const [what, extra, why] of tries) {
      // The payload names an approver: a claim, never believed.
      const a = await send('approve', { target: 'p4', requested_by: 'alice' }, extra);
      expect(a, what).toMatchObject({ ok: false, error: { code: 'not_allowed' } });
      expect((a as { error: { message: string } }).error.message, what).toMatch(why);
      expect(action('p4')!.status, what).toBe('pending');
    }
    expect(r.b!.exec.runs).toEqual([]);
    const refused = (await audit()).filter((e) => e.kind === 'approval');
    expect(refused.map((e) => [e.who, e.outcome])).toEqual([
      ['anonymous', 'refused'],
      ['unverified', 'refused'],
      ['mallory', 'refused'],
    ]);
    expect(refused.every((e) => (e.detail as { claimed_by?: string }).claimed_by === 'alice')).toBe(
      true,
    );
    // The requester was recorded from the connection.
    expect(action('p4')!.requested_by).toBe('mallory');
    expect(await send('approve', { target: 'p4' }, as('alice'))).toMatchObject({
      ok: true,
      status: 'completed',
    });
  });

  it('refuses self-approval unless the rule allows it; a requester may withdraw its own', async () => {
    await start(approveLocal);
    await send('restart_container', { id: 'p5', target: 'local/web' }, as('alice'));
    expect(await send('approve', { target: 'p5' }, as('alice'))).toMatchObject({
      ok: false,
      error: { code: 'not_allowed', message: expect.stringMatching(/self_approve/) },
    });
    expect(await send('reject', { target: 'p5' }, as('alice'))).toMatchObject({
      status: 'rejected',
    });
    await r.b!.rem.stop();
    r.b = undefined;
    const selfOk = {
      ...approveLocal,
      policy: [{ ...approveLocal.policy[0]!, self_approve: true }],
    };
    await start(selfOk);
    await send('restart_container', { id: 'p6', target: 'local/web' }, as('alice'));
    expect(await send('approve', { target: 'p6' }, as('alice'))).toMatchObject({
      ok: true,
      status: 'completed',
    });
  });

  it('restart budget through the service: backoff, then a human decides', async () => {
    await start(allowLocal);
    const restart = () => send('restart_container', { target: 'local/web' });
    expect(await restart()).toMatchObject({ status: 'completed' });
    expect(await restart()).toMatchObject({
      ok: false,
      error: { code: 'backoff' },
      retry_after_s: 9,
    });
    r.clock.advance(9_000);
    expect(await restart()).toMatchObject({ status: 'completed' });
    r.clock.advance(17_999);
    expect(await restart()).toMatchObject({ error: { code: 'backoff' }, retry_after_s: 1 });
    r.clock.advance(1);
    expect(await restart()).toMatchObject({ status: 'completed' });
    r.clock.advance(36_000);
    expect(await restart()).toMatchObject({ ok: true, status: 'pending' });
    expect(r.b!.exec.runs).toHaveLength(3);
    expect(await send('ack', { target: 'local/web' })).toMatchObject({
      ok: false,
      error: { code: 'not_allowed' },
    });
  });

  it('maintenance: policy-checked, state retained, alerts and automatic actions held', async () => {
    await start({ policy: [{ action: 'maintenance', target: 'nas', decision: 'allow' }] });
    expect(r.b!.wire.retainedJson(topics.hostMaintenance(ROOT, 'nas'))).toEqual({
      maintenance: false,
      until: null,
      by: null,
    });
    expect(await send('maintenance', { target: 'local', enabled: true })).toMatchObject({
      error: { code: 'not_allowed' },
    });
    expect(await send('maintenance', { target: 'mars', enabled: true })).toMatchObject({
      error: { code: 'not_found' },
    });
    const on = await send(
      'maintenance',
      { target: 'nas', enabled: true, args: { for: '1h' }, requested_by: 'someone else' },
      as('ops'),
    );
    expect(on).toMatchObject({ ok: true });
    expect(r.b!.wire.retainedJson(topics.hostMaintenance(ROOT, 'nas'))).toEqual({
      maintenance: true,
      until: '2026-01-01T01:00:00.000Z',
      by: 'ops',
    });
    const down = {
      type: 'container_down',
      severity: 'critical' as const,
      subject: 'nas/radarr',
      data: { host: 'nas', name: 'radarr' },
    };
    expect(r.b!.rem.filterAlert(down)).toBeUndefined();
    expect(
      r.b!.rem.filterAlert({ ...down, subject: 'local/x', data: { host: 'local', name: 'x' } }),
    ).toBeDefined();
    expect(r.b!.rem.filterAlert({ ...down, type: 'remediation_failed' })).toBeDefined();
    r.clock.advance(60 * MIN);
    expect(r.b!.wire.retainedJson(topics.hostMaintenance(ROOT, 'nas'))).toMatchObject({
      maintenance: false,
    });
    expect(r.b!.rem.filterAlert(down)).toBeDefined();
    expect((await audit()).filter((e) => e.kind === 'maintenance')).toHaveLength(1);
  });

  it('silence: state retained per host with its containers’, ended early or on time', async () => {
    await start({ policy: [{ action: 'silence', target: 'nas*', decision: 'allow' }] });
    const state = () => r.b!.wire.retainedJson(topics.hostSilence(ROOT, 'nas'));
    expect(state()).toEqual({ silenced: false, until: null, by: null, containers: {} });
    const on = { target: 'nas', enabled: true, args: { for: 3600 } };
    expect(await send('silence', on, as('ops'))).toMatchObject({ ok: true });
    expect(await send('silence', { target: 'nas/radarr', args: { for: '2h' } })).toMatchObject({
      ok: true,
    });
    expect(state()).toEqual({
      silenced: true,
      until: '2026-01-01T01:00:00.000Z',
      by: 'ops',
      containers: { radarr: { until: '2026-01-01T02:00:00.000Z', by: 'unverified' } },
    });
    const down = (name: string) => ({
      type: 'container_down',
      severity: 'critical' as const,
      subject: `nas/${name}`,
      data: { host: 'nas', name },
    });
    expect(r.b!.rem.filterAlert(down('sonarr'))).toBeUndefined();
    // The switch turned off: the host's silence ends now, the container's keeps running.
    expect(await send('silence', { target: 'nas', enabled: false })).toMatchObject({
      ok: true,
      message: 'silence of nas off',
    });
    expect(state()).toMatchObject({ silenced: false, until: null, by: null });
    expect(r.b!.rem.filterAlert(down('sonarr'))).toBeDefined();
    expect(r.b!.rem.filterAlert(down('radarr'))).toBeUndefined();
    // The container's silence ends on time, and the state says so without a command.
    r.clock.advance(2 * 60 * MIN);
    expect(state()).toEqual({ silenced: false, until: null, by: null, containers: {} });
    expect(r.b!.rem.filterAlert(down('radarr'))).toBeDefined();
    expect(await send('silence', { target: 'local', enabled: false })).toMatchObject({
      error: { code: 'not_allowed' },
    });
    expect((await audit()).filter((e) => e.kind === 'silence')).toHaveLength(3);
  });

  it('maintenance and silences survive a restart of the agent', async () => {
    const policy = {
      policy: [
        { action: 'silence', decision: 'allow' },
        { action: 'maintenance', decision: 'allow' },
      ],
    };
    await start(policy);
    await send('maintenance', { target: 'nas', enabled: true });
    await send('silence', { target: 'local/web', args: { for: '2h' } });
    await r.b!.rem.stop();
    r.b = await build({ dir: r.dir, clock: r.clock, config: policy });
    await r.b.rem.start();
    expect(r.b.wire.retainedJson(topics.hostMaintenance(ROOT, 'nas'))).toMatchObject({
      maintenance: true,
      until: null,
    });
    const down = {
      type: 'container_down',
      severity: 'critical' as const,
      subject: 'local/web',
      data: { host: 'local', name: 'web' },
    };
    expect(r.b.rem.filterAlert(down)).toBeUndefined();
    r.clock.advance(2 * 60 * MIN);
    expect(r.b.rem.filterAlert(down)).toBeDefined();
  });
});
