import { afterEach, describe, expect, it } from 'vitest';
import type { ActionStore } from '../../../src/commands/action-store.js';
import { transition, type ActionRecord } from '../../../src/commands/actions.js';

/** How the contract suite drives one ActionStore implementation. */
export interface ActionStoreHarness {
  open(): Promise<ActionStore>;
  /** Opens the same store again, as after a process restart (the old one is abandoned). */
  reopen(): Promise<ActionStore>;
  /** Leaves the store as a crash half-way through writing the next line would. */
  crashMidWrite?(): Promise<void>;
  /** Damages one line in the middle of the persisted store. */
  damageMiddle?(): Promise<void>;
  cleanup(): Promise<void>;
}

export function record(id: string, over: Partial<ActionRecord> = {}): ActionRecord {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    id,
    action: 'restart_container',
    target: 'local/web',
    args: {},
    status: 'pending',
    origin: 'mqtt',
    requested_by: 'ops',
    reason: null,
    decision: { code: 'approval_required', message: 'policy[0] asks', rule: 0 },
    created_at: at,
    updated_at: at,
    expires_at: '2026-01-01T00:30:00.000Z',
    result: null,
    history: [{ status: 'pending', at, by: 'ops', note: null }],
    fingerprint: `fp-${id}`,
    ...over,
  };
}

/** The behaviour every ActionStore must have (STYLE.md §6), crash cases for durable ones. */
export function actionStoreContract(
  name: string,
  make: () => Promise<ActionStoreHarness>,
  caps: { durable: boolean },
): void {
  describe(`ActionStore contract: ${name}`, () => {
    let h: ActionStoreHarness | undefined;
    const harness = async () => (h = await make());
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });

    it('starts empty', async () => {
      const s = await (await harness()).open();
      expect(s.list()).toEqual([]);
      expect(s.get('a')).toBeUndefined();
    });

    it('puts, replaces in place, lists oldest first and deletes', async () => {
      const s = await (await harness()).open();
      await s.put(record('a'));
      await s.put(record('b'));
      const approved = transition(record('a'), 'approved', '2026-01-01T00:01:00.000Z', 'ops', null);
      await s.put(approved);
      expect(s.list().map((r) => [r.id, r.status])).toEqual([
        ['a', 'approved'],
        ['b', 'pending'],
      ]);
      expect(s.get('a')).toEqual(approved);
      await s.delete('a');
      await s.delete('nope');
      expect(s.list().map((r) => r.id)).toEqual(['b']);
    });

    it('keeps a stored record unchanged when the caller mutates its copy', async () => {
      const s = await (await harness()).open();
      const r = record('a');
      await s.put(r);
      (r as { target: string }).target = 'changed';
      expect(s.get('a')?.target).toBe('local/web');
    });

    if (!caps.durable) return;

    it('pending actions survive a restart', async () => {
      const hh = await harness();
      const s = await hh.open();
      await s.put(record('a'));
      await s.put(record('b', { status: 'completed' }));
      await s.delete('b');
      await s.put(
        record('c', {
          args: { stop_timeout: 3 },
          result: { ok: true, message: 'x', data: { n: 1 } },
        }),
      );
      const again = await hh.reopen();
      expect(again.list()).toEqual([
        record('a'),
        record('c', {
          args: { stop_timeout: 3 },
          result: { ok: true, message: 'x', data: { n: 1 } },
        }),
      ]);
    });

    it('a crash mid-write loses only the unacknowledged record, and writing goes on', async () => {
      const hh = await harness();
      const s = await hh.open();
      await s.put(record('a'));
      await hh.crashMidWrite!();
      const again = await hh.reopen();
      expect(again.list().map((r) => r.id)).toEqual(['a']);
      await again.put(record('b'));
      const third = await hh.reopen();
      expect(third.list().map((r) => r.id)).toEqual(['a', 'b']);
    });

    it('skips a damaged line and keeps the rest', async () => {
      const hh = await harness();
      const s = await hh.open();
      await s.put(record('a'));
      await s.put(record('b'));
      await s.put(record('c'));
      await hh.damageMiddle!();
      const again = await hh.reopen();
      expect(again.list().map((r) => r.id)).toEqual(['a', 'c']);
    });

    it('stays correct through many rewrites (compaction)', async () => {
      const hh = await harness();
      const s = await hh.open();
      let r = record('a');
      await s.put(r);
      for (let i = 0; i < 300; i++) {
        r = { ...r, updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() };
        await s.put(r);
        await s.put(record(`x${i}`));
        await s.delete(`x${i}`);
      }
      const again = await hh.reopen();
      expect(again.list()).toEqual([r]);
    });
  });
}
