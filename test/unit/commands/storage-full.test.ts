import { describe, expect, it } from 'vitest';
import { FullDiskStore, remediationSession } from './harness.js';

/**
 * Commands while the disk is full (issue 13 point 7): what must be written before acting
 * cannot be, so the command is refused with `storage_full`, retryable, and nothing runs.
 * The real full disk is in test/integration/agent/full-disk.test.ts; here the action store
 * refuses as FileActionStore does on ENOSPC.
 */

const START = Date.parse('2026-01-01T00:00:00Z');
const allowLocal = {
  policy: [{ action: 'restart_container', target: 'local/*', decision: 'allow' }],
};

describe('commands on a full disk', () => {
  const r = remediationSession('storage-full', START);

  it('refuses with storage_full, runs nothing, and runs the same id once there is room', async () => {
    const store = new FullDiskStore();
    store.full = true;
    await r.start(allowLocal, store);
    const refused = await r.send('restart_container', { id: 'r1', target: 'local/web' });
    expect(refused).toMatchObject({
      ok: false,
      id: 'r1',
      error: { code: 'storage_full', field: null, retryable: true },
    });
    expect(refused.error?.message).toContain('ENOSPC');
    expect(r.b!.exec.runs).toEqual([]);

    store.full = false;
    const again = await r.send('restart_container', { id: 'r1', target: 'local/web' });
    expect(again).toMatchObject({ ok: true, id: 'r1', status: 'completed' });
    expect(again).not.toHaveProperty('duplicate');
    expect(r.b!.exec.runs).toHaveLength(1);
  });

  it('answers with the result when only the record of it is refused: it ran, retrying must not run it again', async () => {
    const store = new FullDiskStore();
    await r.start(allowLocal, store);
    r.b!.exec.outcome = (req) => {
      store.full = true; // the disk fills while the restart runs
      return Promise.resolve({ ok: true, message: `${req.target} done` });
    };
    const a = await r.send('restart_container', { id: 'r2', target: 'local/web' });
    expect(a).toMatchObject({ ok: true, status: 'completed', message: 'local/web done' });
    expect(a).not.toHaveProperty('error');
    const twice = await r.send('restart_container', { id: 'r2', target: 'local/web' });
    expect(twice).toMatchObject({ ok: true, status: 'completed', duplicate: true });
    expect(r.b!.exec.runs).toHaveLength(1);
    expect(r.b!.events.map((e) => e.type)).toEqual([
      'remediation_started',
      'remediation_completed',
    ]);
  });
});
