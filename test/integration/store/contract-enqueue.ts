import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import type { AppendCallback, StoreError } from '../../../src/store/event-store.js';
import { eventually } from '../../helpers/eventually.js';
import { ev, storeSession, type HarnessFactory } from './contract-kit.js';

interface Answer {
  err: StoreError | undefined;
  stored: StoredEvent | undefined;
  token: string;
}

/** A callback that records every answer, in the order they came. */
function answers(): { done: AppendCallback<string>; got: Answer[] } {
  const got: Answer[] = [];
  return { got, done: (err, stored, token) => void got.push({ err, stored, token }) };
}

/** `enqueue`, append without a promise (the agent's hot path): part of the EventStore contract. */
export function enqueueContract(factory: HarnessFactory): void {
  describe('enqueue', () => {
    const t = storeSession(factory);

    it('answers each event once, after its commit, with its token and the event as stored', async () => {
      const { s } = await t.open();
      const { done, got } = answers();
      let listened: number | undefined;
      s.onAppend(() => (listened ??= got.length));
      const data = { exit_code: 1 };
      s.enqueue(ev({ data }), done, 'a');
      s.enqueue(ev({ severity: 'critical' }), done, 'b');
      expect(got).toEqual([]); // never before enqueue returns
      await eventually(() => expect(got).toHaveLength(2));
      expect(got.map((a) => [a.err, a.token, a.stored?.seq])).toEqual([
        [undefined, 'a', 1],
        [undefined, 'b', 2],
      ]);
      expect(listened).toBe(0); // append listeners heard of the commit first
      // The caller's data is handed over, not copied (NewEvent.data); the disk has its JSON.
      expect(got[0]!.stored!.data).toBe(data);
      expect(await s.query()).toEqual(got.map((a) => a.stored));
      expect((await s.stats()).commits).toBe(1);
    });

    it('refuses a malformed event alone, with bad_event naming the field', async () => {
      const { s } = await t.open();
      const { done, got } = answers();
      s.enqueue(ev(), done, 'ok-1');
      s.enqueue(ev({ data: { big: 1n } }), done, 'data');
      s.enqueue(ev({ type: 'Not A Type' }), done, 'type');
      s.enqueue(ev({ data: { blob: 'x'.repeat(2 * 2 ** 20) } }), done, 'size');
      s.enqueue(ev(), done, 'ok-2');
      await eventually(() => expect(got).toHaveLength(5));
      const by = new Map(got.map((a) => [a.token, a]));
      expect(by.get('data')!.err?.reason).toBe('bad_event');
      expect(by.get('data')!.err?.message).toMatch(/data: not serialisable as JSON/);
      expect(by.get('type')!.err?.message).toMatch(/type "Not A Type": expected a snake_case/);
      expect(by.get('size')!.err?.message).toMatch(/exceeds the \d+-byte limit per event/);
      for (const bad of ['data', 'type', 'size']) expect(by.get(bad)!.stored).toBeUndefined();
      expect([by.get('ok-1')!.stored?.seq, by.get('ok-2')!.stored?.seq]).toEqual([1, 2]);
      expect((await s.stats()).count).toBe(2);
    });

    it('a throwing callback harms neither the other answers nor the store', async () => {
      const { s } = await t.open();
      const { done, got } = answers();
      s.enqueue(
        ev(),
        () => {
          throw new Error('callback bug');
        },
        undefined,
      );
      s.enqueue(ev(), done, 'after');
      await eventually(() => expect(got).toHaveLength(1));
      expect(got[0]!.stored?.seq).toBe(2);
      expect((await s.append(ev())).seq).toBe(3);
    });

    it('answers closed once the store is closed, and commits what was queued before', async () => {
      const { s } = await t.open();
      const { done, got } = answers();
      s.enqueue(ev(), done, 'queued');
      await s.close();
      s.enqueue(ev(), done, 'late');
      await eventually(() => expect(got).toHaveLength(2));
      expect(got[0]).toMatchObject({ token: 'queued', err: undefined, stored: { seq: 1 } });
      expect(got[1]).toMatchObject({ token: 'late', stored: undefined });
      expect(got[1]!.err?.reason).toBe('closed');
    });
  });
}
