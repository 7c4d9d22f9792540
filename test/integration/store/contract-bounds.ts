import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { payloadBytes } from '../../../src/store/event-store.js';
import { ev, storeSession, type HarnessFactory } from './contract-kit.js';

/** The size bound, the age bound and retention: part of the EventStore contract. */
export function boundsContract(factory: HarnessFactory): void {
  describe('bounds', () => {
    const t = storeSession(factory);

    it('when full drops the oldest of the lowest severity first and records it', async () => {
      const { s } = await t.open({ maxBytes: 8_000 });
      const pad = 'p'.repeat(150);
      const crit = await s.appendMany(
        Array.from({ length: 10 }, () => ev({ severity: 'critical', data: { pad } })),
      );
      const low = await s.appendMany(
        Array.from({ length: 30 }, (_, i) =>
          ev({ severity: i % 2 ? 'info' : 'debug', data: { pad } }),
        ),
      );
      const st = await s.stats();
      expect(st.bytes).toBeLessThanOrEqual(8_000);
      const left = await s.query({ limit: 1000 });
      const seqs = new Set(left.map((e) => e.seq));
      expect(crit.every((e) => seqs.has(e.seq))).toBe(true);
      const droppedLow = low.filter((e) => !seqs.has(e.seq));
      expect(droppedLow.length).toBeGreaterThan(0);
      // No info event went while a debug one stayed; the oldest went first.
      const keptDebug = low.filter((e) => e.severity === 'debug' && seqs.has(e.seq));
      if (droppedLow.some((e) => e.severity === 'info')) expect(keptDebug).toEqual([]);
      const records = left.filter((e) => e.type === 'events_dropped');
      expect(records.length).toBeGreaterThan(0);
      const counted = records.reduce((n, r) => n + (r.data.count as number), 0);
      expect(counted).toBe(droppedLow.length);
      expect(records[0]).toMatchObject({ severity: 'warning', data: { reason: 'max_bytes' } });
      expect(st.dropped.total).toBe(droppedLow.length);
      expect(st.dropped.bySeverity.critical).toBe(0);
    });

    it('records a drop of many types even when the record outgrows the per-event limit', async () => {
      // maxBytes 3,200: events are limited to 200 bytes; a record listing ten types is larger.
      const { s } = await t.open({ maxBytes: 3_200 });
      const types = Array.from({ length: 25 }, (_, i) => `type_number_${i}`);
      const stored = await s.appendMany(
        types.map((type) => ev({ type, severity: 'debug', data: { p: 'x'.repeat(80) } })),
      );
      expect(stored).toHaveLength(25);
      const [record] = await s.query({ type: 'events_dropped' });
      expect(payloadBytes(record!, JSON.stringify(record!.data))).toBeGreaterThan(200);
    });

    it('drops a critical event only once nothing lower is left', async () => {
      const { s } = await t.open({ maxBytes: 6_400 });
      const pad = 'p'.repeat(150);
      for (let i = 0; i < 40; i++) await s.append(ev({ severity: 'critical', data: { pad, i } }));
      const left = await s.query({ limit: 1000 });
      expect((await s.stats()).dropped.bySeverity.critical).toBeGreaterThan(0);
      // What is left: the newest criticals, plus the newest events_dropped record.
      const kept = left.filter((e) => e.severity === 'critical').map((e) => e.data.i);
      expect(kept).toEqual([...kept].sort((a, b) => (a as number) - (b as number)));
      expect(kept.at(-1)).toBe(39);
      expect(left.filter((e) => e.severity === 'warning').length).toBeLessThanOrEqual(1);
    });

    it('drops events past the age bound, whatever their severity, and records it', async () => {
      const { h, s } = await t.open({ maxAge: 60_000, maintenanceEvery: 10_000 });
      const now = h.clock.now();
      await s.appendMany([
        ev({ severity: 'critical', ts: now - 120_000 }),
        ev({ ts: now - 30_000 }),
      ]);
      h.clock.advance(10_000);
      await eventually(async () => expect((await s.stats()).dropped.total).toBe(1));
      const left = await s.query();
      expect(left.map((e) => e.type)).toEqual(['container_down', 'events_dropped']);
      expect(left[1]!.data).toMatchObject({
        reason: 'max_age',
        count: 1,
        by_severity: { critical: 1 },
      });
    });

    it('prunes what every registered sink acked after the retention period, silently', async () => {
      const { h, s } = await t.open({ retention: 60_000, maintenanceEvery: 10_000 });
      await s.registerSink('a');
      await s.registerSink('b');
      await s.appendMany([ev(), ev(), ev()]);
      await s.ack('a', 3);
      await s.ack('b', 2);
      h.clock.advance(30_000);
      await h.maintained();
      expect((await s.stats()).count).toBe(3);
      h.clock.advance(40_000);
      await eventually(async () => expect((await s.query()).map((e) => e.seq)).toEqual([3]));
      expect((await s.stats()).dropped.total).toBe(0);
    });

    it('lets only the sinks registered in this run hold retention back', async () => {
      const { h, s } = await t.open({ retention: 60_000, maintenanceEvery: 10_000 });
      await s.registerSink('gone');
      await s.registerSink('kept');
      await s.appendMany([ev(), ev()]);
      await s.ack('kept', 2);
      const again = await t.reopen();
      h.clock.advance(70_000);
      await h.maintained();
      // Nobody registered yet: nothing counts as acknowledged.
      expect((await again.stats()).count).toBe(2);
      await again.registerSink('kept');
      h.clock.advance(10_000);
      await eventually(async () => expect((await again.stats()).count).toBe(0));
      expect((await again.sinks()).find((x) => x.name === 'gone')).toEqual({
        name: 'gone',
        cursor: 0,
        registered: false,
      });
    });
  });
}
