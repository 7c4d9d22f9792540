import { describe, expect, it } from 'vitest';
import { approvalOption, type PendingSummary } from '../../../src/commands/actions.js';
import { topics } from '../../../src/core/topics.js';
import { remediationSession, ROOT } from './harness.js';

const MIN = 60_000;
const START = Date.parse('2026-01-01T00:00:00Z');
const approveLocal = {
  policy: [{ action: 'restart_container', target: 'local/*', decision: 'approve' }],
  broker: { users: ['alice', 'bob'].map((username) => ({ username, password: 'pw' })) },
  remediation: { approvers: ['alice', 'bob'] },
};
/** As the embedded broker hands a message over: with the login that published it. */
const as = (sender: string) => ({ sender });
const option = (id: string, target: string) =>
  approvalOption({ id, action: 'restart_container', target });

/**
 * Issue 14, point 5: the fixed approval entities' commands. `approve` / `reject` with
 * `oldest: true` or `selected: true`, and `select`, which chooses the action those act on.
 * The same policy, identity rules and audit as an approval by id.
 */
describe('approving the oldest or the selected pending action (in process)', () => {
  const r = remediationSession('picks', START);
  const { start, send, audit, action } = r;
  const summary = () => r.b!.wire.retainedJson<PendingSummary>(topics.pendingActions(ROOT))!;
  /** Two held restarts, `old` a minute before `new`, requested by ops. */
  const twoPending = async () => {
    await start(approveLocal);
    await send('restart_container', { id: 'old', target: 'local/db' }, as('ops'));
    r.clock.advance(MIN);
    await send('restart_container', { id: 'new', target: 'local/web' }, as('ops'));
  };

  it('approve oldest decides the oldest pending action, and the audit names it', async () => {
    await twoPending();
    const a = await send('approve', { oldest: true, requested_by: 'home-assistant' }, as('alice'));
    expect(a).toMatchObject({
      ok: true,
      status: 'completed',
      action_id: 'old',
      target: 'local/db',
    });
    expect(action('new')!.status).toBe('pending');
    const lines = (await audit()).filter((e) => e.action === 'approve');
    expect(lines.map((e) => [e.kind, e.who, e.outcome, e.target, e.action_id])).toEqual([
      ['command', 'alice', 'received', 'old', 'old'],
    ]);
    expect(lines[0]!.detail).toEqual({ pick: 'oldest', claimed_by: 'home-assistant' });
    expect((await audit()).filter((e) => e.kind === 'approval')).toEqual([
      expect.objectContaining({ who: 'alice', outcome: 'approved', action_id: 'old' }),
    ]);
    // Next, the other one; then nothing is left to pick.
    expect(await send('reject', { oldest: true }, as('bob'))).toMatchObject({
      status: 'rejected',
      action_id: 'new',
    });
    expect(await send('approve', { oldest: true }, as('alice'))).toMatchObject({
      ok: false,
      error: { code: 'not_found', field: 'oldest', message: 'no action is pending' },
    });
    expect(r.b!.exec.runs.map((x) => x.target)).toEqual(['local/db']);
  });

  it('select shows the choice in the summary; approve selected runs exactly that one', async () => {
    await twoPending();
    expect(summary()).toMatchObject({ pending: 2, selected: null });
    const chosen = option('new', 'local/web');
    expect(await send('select', { option: chosen }, as('alice'))).toMatchObject({
      ok: true,
      action_id: 'new',
      message: `selected ${chosen}`,
    });
    expect(summary().selected).toEqual({ id: 'new', option: chosen });
    // Bob approves what Alice chose.
    expect(await send('approve', { selected: true }, as('bob'))).toMatchObject({
      ok: true,
      status: 'completed',
      action_id: 'new',
    });
    expect(action('old')!.status).toBe('pending');
    expect(summary()).toMatchObject({ pending: 1, selected: null });
    // The choice was decided: pressing again says so instead of taking another action.
    expect(await send('reject', { selected: true }, as('bob'))).toMatchObject({
      ok: false,
      error: { code: 'not_pending', message: 'action new is completed, not pending' },
    });
    expect(
      (await audit()).filter((e) => e.kind === 'selection').map((e) => [e.who, e.outcome]),
    ).toEqual([['alice', 'selected']]);
  });

  it('only approvers may choose; a choice by anyone else is refused and audited', async () => {
    await twoPending();
    await send('select', { target: 'old' }, as('alice'));
    for (const who of ['ops', 'anonymous']) {
      const a = await send('select', { option: option('new', 'local/web') }, as(who));
      expect(a, who).toMatchObject({ ok: false, error: { code: 'not_allowed' } });
    }
    expect(await send('select', { target: 'new' })).toMatchObject({
      ok: false,
      error: { code: 'not_allowed', message: expect.stringMatching(/cannot tell who published/) },
    });
    expect(summary().selected).toMatchObject({ id: 'old' });
    const lines = (await audit()).filter((e) => e.kind === 'selection');
    expect(lines.map((e) => [e.who, e.outcome, e.action_id])).toEqual([
      ['alice', 'selected', 'old'],
      ['ops', 'refused', 'new'],
      ['anonymous', 'refused', 'new'],
      ['unverified', 'refused', 'new'],
    ]);
    // A non-approver pressing Approve selected is refused like any approval.
    expect(await send('approve', { selected: true }, as('ops'))).toMatchObject({
      ok: false,
      error: { code: 'not_allowed', message: 'ops is not in remediation.approvers' },
    });
    expect((await audit()).filter((e) => e.kind === 'approval').at(-1)).toMatchObject({
      who: 'ops',
      outcome: 'refused',
      action_id: 'old',
      detail: { pick: 'selected' },
    });
    expect(action('old')!.status).toBe('pending');
  });

  it('nothing chosen, an option not listed, or (none): clear answers', async () => {
    await twoPending();
    expect(await send('approve', { selected: true }, as('alice'))).toMatchObject({
      ok: false,
      error: {
        code: 'not_found',
        field: 'selected',
        message: 'no action is selected: choose one of the 2 pending in the select first',
      },
    });
    expect(await send('select', { option: 'restart container local/x (zz)' }, as('alice'))).toEqual(
      expect.objectContaining({
        ok: false,
        error: {
          code: 'not_found',
          field: 'option',
          message: `no pending action is listed as "restart container local/x (zz)" (pending: ${JSON.stringify(option('old', 'local/db'))}, ${JSON.stringify(option('new', 'local/web'))})`,
        },
      }),
    );
    expect(await send('select', { target: 'gone' }, as('alice'))).toMatchObject({
      error: { code: 'not_found', message: 'no action gone' },
    });
    await send('select', { target: 'old' }, as('alice'));
    expect(await send('select', { option: '(none)' }, as('alice'))).toMatchObject({
      ok: true,
      message: 'no action selected',
    });
    expect(summary().selected).toBeNull();
    expect(await send('approve', { selected: true, dry_run: true }, as('alice'))).toMatchObject({
      ok: false,
      error: { field: 'selected' },
    });
    expect(r.b!.exec.runs).toEqual([]);
  });
});
