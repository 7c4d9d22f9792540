import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../src/commands/actions.js';
import type { Answer } from '../../../src/commands/command.js';
import { topics } from '../../../src/core/topics.js';
import { remediationSession, ROOT } from './harness.js';

const START = Date.parse('2026-01-01T00:00:00Z');
const allowLocal = {
  policy: [{ action: 'restart_container', target: 'local/*', decision: 'allow' }],
};

describe('remediation commands (in process)', () => {
  const r = remediationSession('remediation', START);
  const { start, send, audit, action } = r;

  it('denies by default: an error answer, nothing run, the decision audited', async () => {
    await start();
    const a = await send('restart_container', { id: 'r1', target: 'local/web' });
    expect(a).toMatchObject({
      ok: false,
      id: 'r1',
      error: { code: 'not_allowed', field: 'target' },
    });
    expect(r.b!.exec.runs).toEqual([]);
    expect(
      r
        .b!.wire.on(topics.commandResult(ROOT, 'restart_container'))
        .map((p) => JSON.parse(p) as Answer),
    ).toEqual([a]);
    expect((await audit()).map((e) => [e.kind, e.outcome])).toEqual([
      ['command', 'received'],
      ['decision', 'deny'],
    ]);
  });

  it('runs an allowed restart and publishes its lifecycle', async () => {
    await start(allowLocal);
    const a = await send('restart_container', {
      id: 'r1',
      target: 'local/web',
      requested_by: 'ops',
    });
    expect(a).toMatchObject({
      ok: true,
      status: 'completed',
      action_id: 'r1',
      message: 'local/web done',
    });
    expect(r.b!.exec.runs).toHaveLength(1);
    const rec = action('r1')!;
    expect(rec.history.map((h) => h.status)).toEqual(['approved', 'running', 'completed']);
    expect(rec).not.toHaveProperty('fingerprint');
    const statuses = r
      .b!.wire.on(topics.action(ROOT, 'r1'))
      .map((p) => (JSON.parse(p) as ActionRecord).status);
    expect(statuses).toEqual(['approved', 'running', 'completed']);
    expect(r.b!.events.map((e) => [e.type, e.data?.notify])).toEqual([
      ['remediation_started', false],
      ['remediation_completed', false],
    ]);
    expect((await audit()).map((e) => e.kind)).toEqual(['command', 'decision', 'result']);
  });

  it('a command without an id gets its action id before it is audited (a button press)', async () => {
    await start(allowLocal);
    const a = await send('restart_container', { target: 'local/web' }, { sender: 'ha' });
    expect(a).toMatchObject({ ok: true, status: 'completed' });
    const id = a.action_id!;
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect((await audit()).map((e) => [e.kind, e.outcome, e.command_id, e.action_id])).toEqual([
      ['command', 'received', null, id],
      ['decision', 'allow', null, id],
      ['result', 'completed', null, id],
    ]);
  });

  it('the same id twice runs once and answers twice; another command with it is refused', async () => {
    await start(allowLocal);
    let release!: () => void;
    r.b!.exec.outcome = () => new Promise((r) => (release = () => r({ ok: true, message: 'ok' })));
    const first = send('restart_container', { id: 'same', target: 'local/web' });
    const second = send('restart_container', { id: 'same', target: 'local/web' });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    release();
    const [a1, a2] = await Promise.all([first, second]);
    expect(r.b!.exec.runs).toHaveLength(1);
    expect(a1).toMatchObject({ ok: true, status: 'completed' });
    expect(a2).toEqual({ ...a1, duplicate: true });
    expect(await send('restart_container', { id: 'same', target: 'local/web' })).toMatchObject({
      duplicate: true,
      status: 'completed',
    });
    expect(await send('stop_container', { id: 'same', target: 'local/web' })).toMatchObject({
      ok: false,
      error: { code: 'id_conflict', field: 'id' },
    });
    expect(r.b!.exec.runs).toHaveLength(1);
    expect(r.b!.wire.on(topics.commandResult(ROOT, 'restart_container'))).toHaveLength(3);
  });

  it('a dry run changes nothing: no run, no action, no budget used', async () => {
    await start(allowLocal);
    const a = await send('restart_container', { target: 'local/web', dry_run: true });
    expect(a).toMatchObject({ ok: true, dry_run: true, decision: { verdict: 'allow', rule: 0 } });
    expect(r.b!.exec.runs).toEqual([]);
    expect(r.b!.store.list()).toEqual([]);
    expect(r.b!.wire.sent.filter((m) => m.topic.includes('/actions/'))).toEqual([]);
    expect(r.b!.events).toEqual([]);
    // No backoff: the dry run did not count as a restart.
    expect(await send('restart_container', { target: 'local/web' })).toMatchObject({
      ok: true,
      status: 'completed',
    });
    expect(await send('restart_container', { target: 'local/web', dry_run: true })).toMatchObject({
      decision: { verdict: 'deny', code: 'backoff' },
      retry_after_s: 9,
    });
  });

  it('answers unknown actions, retained commands and bad response topics safely', async () => {
    await start(allowLocal);
    const unknown = await send('reboot', { target: 'local' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown_action' } });
    expect(r.b!.wire.on(topics.commandResultOf(ROOT, 'reboot'))).toHaveLength(1);
    const retained = await send('restart_container', { target: 'local/web' }, { retain: true });
    expect(retained).toMatchObject({ ok: false, error: { code: 'retained' } });
    await send(
      'restart_container',
      { target: 'local/x', dry_run: true },
      { responseTopic: 'homeassistant/sensor/x/config' },
    );
    await send(
      'restart_container',
      { target: 'local/x', dry_run: true },
      { responseTopic: 'outpost/n1/availability' },
    );
    await send(
      'restart_container',
      { target: 'local/x', dry_run: true },
      { responseTopic: 'a/+/b' },
    );
    expect(
      r.b!.wire.sent.filter(
        (m) =>
          !m.topic.startsWith('outpost/n1/cmd/') &&
          !m.topic.startsWith('outpost/n1/hosts/') &&
          !m.topic.startsWith('outpost/n1/remediation/'),
      ),
    ).toEqual([]);
    expect(r.b!.exec.runs).toEqual([]);
  });

  it('run_backup and disk_cleanup answer not available', async () => {
    await start({ policy: [{ action: '*', target: '*', decision: 'allow' }] });
    expect(await send('run_backup', { target: 'ha-config' })).toMatchObject({
      ok: false,
      error: { code: 'not_available', field: 'action' },
    });
    expect(await send('disk_cleanup', { target: 'local' })).toMatchObject({
      ok: false,
      error: { code: 'not_available' },
    });
    expect(r.b!.store.list()).toEqual([]);
  });

  it('one action per target at a time', async () => {
    await start(allowLocal);
    let release!: () => void;
    r.b!.exec.outcome = () =>
      new Promise((r) => (release = () => r({ ok: false, message: 'still down' })));
    const first = send('restart_container', { target: 'local/web' });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(await send('stop_container', { target: 'local/web' })).toMatchObject({
      error: { code: 'busy' },
    });
    release();
    expect(await first).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'failed', message: 'still down' },
    });
    expect(r.b!.events.at(-1)).toMatchObject({
      type: 'remediation_failed',
      data: { notify: true },
    });
  });
});
