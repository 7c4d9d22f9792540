import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { SEVERITIES, type NewEvent, type Severity } from '../../../src/core/events.js';
import { payloadBytes, type AppendInfo } from '../../../src/store/event-store.js';
import { boundsContract } from './contract-bounds.js';
import { enqueueContract } from './contract-enqueue.js';
import { ev, rejectsWith, storeSession, type HarnessFactory } from './contract-kit.js';

export type { HarnessFactory, HarnessOptions, StoreHarness } from './contract-kit.js';
export { ev } from './contract-kit.js';

/** The behaviour every EventStore must have (STYLE.md §6); its bounds in contract-bounds.ts. */
export function eventStoreContract(name: string, factory: HarnessFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    const t = storeSession(factory);

    it('appends: seq from 1, a ULID id, the clock time, the node and {} as data', async () => {
      const { h, s } = await t.open();
      const a = await s.append(ev({ data: undefined }));
      const b = await s.append(ev({ severity: 'critical' }));
      expect(a).toMatchObject({ seq: 1, ts: new Date(h.clock.now()).toISOString(), data: {} });
      expect(a.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(b.seq).toBe(2);
      expect(b.id > a.id).toBe(true);
      expect(b.node).toBe(a.node);
      expect(await s.query()).toEqual([a, b]);
    });

    it('takes ts as epoch ms, Date or ISO string and stores it as ISO with Z', async () => {
      const { s } = await t.open();
      const iso = '2025-03-04T05:06:07.089Z';
      const stored = await s.appendMany([
        ev({ ts: Date.parse(iso) }),
        ev({ ts: new Date(iso) }),
        ev({ ts: '2025-03-04T06:06:07.089+01:00' }),
      ]);
      expect(stored.map((e) => e.ts)).toEqual([iso, iso, iso]);
    });

    it('rejects a malformed event with bad_event and keeps serving', async () => {
      const { s } = await t.open();
      const bad: unknown[] = [
        ev({ severity: 'fatal' as Severity }),
        ev({ type: 'Not A Type' }),
        ev({ ts: 'yesterday' }),
        ev({ data: [1, 2] as unknown as Record<string, unknown> }),
        ev({ data: { big: 1n } }),
        ev({ data: { blob: 'x'.repeat(2 * 2 ** 20) } }),
      ];
      for (const e of bad) {
        const err = await rejectsWith(s.append(e as NewEvent), 'bad_event');
        expect(err.code).toBe('BAD_PAYLOAD');
      }
      expect((await s.append(ev())).seq).toBe(1);
      await rejectsWith(s.appendMany([ev(), ev({ type: 'Bad' }), ev()]), 'bad_event');
      expect((await s.stats()).count).toBe(1);
    });

    it('group-commits appends made in the same tick', async () => {
      const { s } = await t.open();
      const stored = await Promise.all(
        Array.from({ length: 500 }, (_, i) => s.append(ev({ data: { i } }))),
      );
      expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
      const st = await s.stats();
      expect(st.appended).toBe(500);
      expect(st.commits).toBeLessThanOrEqual(2);
    });

    it('tells listeners after the commit, with events already readable; a throwing listener harms nobody', async () => {
      const { s } = await t.open();
      const seen: AppendInfo[] = [];
      let readable: number | undefined;
      s.onAppend(() => {
        throw new Error('listener bug');
      });
      const off = s.onAppend((info) => {
        seen.push(info);
        void s.query().then((all) => (readable ??= all.length));
      });
      const [a, b] = await Promise.all([s.append(ev()), s.append(ev())]);
      await eventually(() => expect(readable).toBe(2));
      expect(seen).toEqual([{ lastSeq: 2, events: [a, b] }]);
      off();
      await s.append(ev());
      expect(seen).toHaveLength(1);
    });

    it('keeps every accepted event, its id and the cursors across reopen', async () => {
      const { s } = await t.open();
      await s.registerSink('uplink');
      const stored = await s.appendMany([ev(), ev({ severity: 'error' }), ev()]);
      await s.ack('uplink', 2);
      await s.ack('uplink', 1);
      const again = await t.reopen();
      expect(await again.query()).toEqual(stored);
      expect(await again.registerSink('uplink', { startAt: 'now' })).toBe(2);
      expect((await again.append(ev())).seq).toBe(4);
    });

    it('never hands out a seq twice, even after every event was pruned', async () => {
      const { h, s } = await t.open({ retention: 1_000, maxAge: 10_000, maintenanceEvery: 500 });
      await s.registerSink('a');
      const [, last] = await s.appendMany([ev(), ev()]);
      await s.ack('a', last!.seq);
      h.clock.advance(2_000);
      await eventually(async () => expect((await s.stats()).count).toBe(0));
      const again = await t.reopen();
      expect((await again.append(ev())).seq).toBe(3);
    });

    it('reads a sink from its cursor in seq order, and acks only forwards', async () => {
      const { s } = await t.open();
      await s.appendMany([ev(), ev(), ev(), ev()]);
      expect(await s.registerSink('influx', { startAt: 'oldest' })).toBe(0);
      expect(await s.registerSink('ha', { startAt: 'now' })).toBe(4);
      expect((await s.readAfter('influx', 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
      await s.ack('influx', 3);
      await s.ack('influx', 1);
      expect(await s.cursor('influx')).toBe(3);
      expect((await s.readAfter('influx', 10)).map((e) => e.seq)).toEqual([4]);
      expect((await s.readAfter('influx', 10, 1)).map((e) => e.seq)).toEqual([4]);
      expect(await s.readAfter('influx', 10, 4)).toEqual([]);
      expect(await s.readAfter('ha', 10)).toEqual([]);
      await s.append(ev());
      expect((await s.readAfter('ha', 10)).map((e) => e.seq)).toEqual([5]);
      expect(await s.sinks()).toEqual([
        { name: 'ha', cursor: 4, registered: true },
        { name: 'influx', cursor: 3, registered: true },
      ]);
    });

    it('refuses acks beyond the newest event and unknown sinks', async () => {
      const { s } = await t.open();
      await s.registerSink('a');
      await s.append(ev());
      await rejectsWith(s.ack('a', 2), 'bad_request');
      await rejectsWith(s.ack('a', -1), 'bad_request');
      await rejectsWith(s.ack('nobody', 1), 'unknown_sink');
      await rejectsWith(s.readAfter('nobody', 1), 'unknown_sink');
      await rejectsWith(s.registerSink(''), 'bad_request');
    });

    it('reports a sink backlog: count and the oldest unsent ts', async () => {
      const { s } = await t.open();
      await s.registerSink('a');
      expect(await s.backlog('a')).toEqual({ cursor: 0, count: 0, oldestTs: undefined });
      await s.appendMany([
        ev({ ts: '2025-01-01T00:00:02.000Z' }),
        ev({ ts: '2025-01-01T00:00:01.000Z' }),
        ev(),
      ]);
      expect(await s.backlog('a')).toEqual({
        cursor: 0,
        count: 3,
        oldestTs: '2025-01-01T00:00:01.000Z',
      });
      await s.ack('a', 2);
      expect((await s.backlog('a')).count).toBe(1);
    });

    it('queries by time, type, minimum severity, limit and order', async () => {
      const { s } = await t.open();
      const [a, b, c, d] = await s.appendMany([
        ev({ ts: '2025-01-01T00:00:00Z', severity: 'debug', type: 'disk_pressure' }),
        ev({ ts: '2025-01-02T00:00:00Z', severity: 'error' }),
        ev({ ts: '2025-01-03T00:00:00Z', severity: 'critical', type: 'disk_pressure' }),
        ev({ ts: '2025-01-04T00:00:00Z', severity: 'info', type: 'backup_failed' }),
      ]);
      expect(
        await s.query({ since: '2025-01-02T00:00:00Z', until: Date.parse('2025-01-04T00:00:00Z') }),
      ).toEqual([b, c]);
      expect(await s.query({ type: 'disk_pressure' })).toEqual([a, c]);
      expect(await s.query({ type: ['backup_failed', 'container_down'] })).toEqual([b, d]);
      expect(await s.query({ severity: 'error' })).toEqual([b, c]);
      expect(await s.query({ order: 'desc', limit: 2 })).toEqual([d, c]);
      await rejectsWith(s.query({ limit: 0 }), 'bad_request');
    });

    it('counts payload bytes exactly and reports stats', async () => {
      const { s } = await t.open();
      const stored = await s.appendMany([
        ev({ subject: 'nas:/srv/ünïcode' }),
        ev({ data: { x: 'y'.repeat(100) } }),
      ]);
      const bytes = stored.reduce((n, e) => n + payloadBytes(e, JSON.stringify(e.data)), 0);
      const st = await s.stats();
      expect(st).toMatchObject({
        count: 2,
        bytes,
        lastSeq: 2,
        writable: true,
        oldestTs: stored[0]!.ts,
      });
      expect(st.dropped.total).toBe(0);
    });

    it('commits what is pending on close, then refuses with closed', async () => {
      const { h, s: first } = await t.open();
      const pending = first.append(ev());
      await first.close();
      expect((await pending).seq).toBe(1);
      await rejectsWith(first.append(ev()), 'closed');
      await rejectsWith(first.query(), 'closed');
      const again = t.adopt(await h.open());
      expect(await again.query()).toHaveLength(1);
    });

    it('loses no accepted event or ack when the process dies', async (ctx) => {
      const { h, s: before } = await t.open();
      if (!h.crash) return ctx.skip('this store has no crash hook');
      await before.registerSink('a');
      const stored = await before.appendMany(SEVERITIES.map((severity) => ev({ severity })));
      await before.ack('a', 3);
      const after = t.adopt(await h.crash());
      expect(await after.query()).toEqual(stored);
      expect(await after.registerSink('a')).toBe(3);
    });

    boundsContract(factory);
    enqueueContract(factory);
  });
}
