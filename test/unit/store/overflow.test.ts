import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEVERITIES, severityRank, type Severity } from '../../../src/core/events.js';
import {
  droppedEvent,
  planOverflow,
  summarizeDrops,
  type DropCandidate,
} from '../../../src/store/overflow.js';

function store(rows: DropCandidate[]) {
  return {
    bytes: rows.reduce((n, r) => n + r.bytes, 0),
    oldest: (s: Severity) => rows.filter((r) => r.severity === s).sort((a, b) => a.seq - b.seq),
  };
}

const row = (
  seq: number,
  severity: Severity,
  bytes = 10,
  type = 'container_down',
): DropCandidate => ({
  seq,
  severity,
  type,
  bytes,
});

describe('planOverflow', () => {
  it('drops nothing while within the bound', () => {
    const s = store([row(1, 'debug'), row(2, 'info')]);
    expect(planOverflow({ ...s, maxBytes: 20, targetBytes: 10 })).toEqual([]);
  });

  it('drops the oldest of the lowest severity first, down to the target', () => {
    const s = store([
      row(1, 'info'),
      row(2, 'debug'),
      row(3, 'critical'),
      row(4, 'debug'),
      row(5, 'info'),
    ]);
    const plan = planOverflow({ ...s, maxBytes: 40, targetBytes: 20 });
    expect(plan.map((r) => r.seq)).toEqual([2, 4, 1]);
  });

  it('never drops a critical event while a lower one remains', () => {
    const s = store([row(1, 'critical', 100), row(2, 'error', 5), row(3, 'critical', 100)]);
    const plan = planOverflow({ ...s, maxBytes: 150, targetBytes: 150 });
    expect(plan.map((r) => r.seq)).toEqual([2, 1]);
  });

  it('reads candidates lazily: a severity is not read once the target is met', () => {
    const read: Severity[] = [];
    const plan = planOverflow({
      bytes: 30,
      maxBytes: 25,
      targetBytes: 20,
      oldest: (s) => {
        read.push(s);
        return s === 'info' ? [row(7, 'info'), row(8, 'info')] : [];
      },
    });
    expect(plan.map((r) => r.seq)).toEqual([7]);
    expect(read).toEqual(['debug', 'info']);
  });

  it('holds its promises for any store (property)', () => {
    const arbRows = fc
      .array(
        fc.record({
          severity: fc.constantFrom(...SEVERITIES),
          bytes: fc.integer({ min: 1, max: 50 }),
        }),
        {
          maxLength: 60,
        },
      )
      .map((rs) => rs.map((r, i) => row(i + 1, r.severity, r.bytes)));
    fc.assert(
      fc.property(
        arbRows,
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 0, max: 300 }),
        (rows, max, gap) => {
          const s = store(rows);
          const target = Math.max(0, max - gap);
          const plan = planOverflow({ ...s, maxBytes: max, targetBytes: target });
          const dropped = new Set(plan.map((r) => r.seq));
          const kept = rows.filter((r) => !dropped.has(r.seq));
          const keptBytes = kept.reduce((n, r) => n + r.bytes, 0);
          if (s.bytes <= max) {
            expect(plan).toEqual([]);
            return;
          }
          // Within the target, and minimal: without its last drop it would not be.
          expect(keptBytes).toBeLessThanOrEqual(target);
          expect(keptBytes + plan[plan.length - 1]!.bytes).toBeGreaterThan(target);
          // Every dropped event precedes every kept one in (severity, seq) order.
          const key = (r: DropCandidate) => severityRank(r.severity) * 1e6 + r.seq;
          const maxDropped = Math.max(...plan.map(key));
          for (const k of kept) expect(key(k)).toBeGreaterThan(maxDropped);
        },
      ),
    );
  });
});

describe('summarizeDrops and droppedEvent', () => {
  it('counts per severity (lowest first, non-zero only) and per type (sorted)', () => {
    const s = summarizeDrops('max_bytes', [
      row(1, 'info', 10, 'disk_pressure'),
      row(2, 'debug', 5, 'container_down'),
      row(3, 'info', 7, 'container_down'),
    ]);
    expect(s).toEqual({
      reason: 'max_bytes',
      count: 3,
      bytes: 22,
      by_severity: { debug: 1, info: 2 },
      by_type: { container_down: 2, disk_pressure: 1 },
    });
    expect(Object.keys(s.by_severity)).toEqual(['debug', 'info']);
    expect(droppedEvent(s)).toEqual({
      type: 'events_dropped',
      severity: 'warning',
      subject: 'event_store',
      data: s,
    });
  });
});
