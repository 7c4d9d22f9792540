import { describe, expect, it } from 'vitest';
import { eventPoints, eventTimestamp } from '../../../bridges/influxdb/points.js';
import type { StoredEvent } from '../../../src/core/events.js';

const arithmetic = (ts: string, seq: number) =>
  (BigInt(Date.parse(ts)) * 1_000_000n + BigInt(seq % 1_000_000)).toString();

describe('eventTimestamp', () => {
  it('is the ms in nanoseconds with the seq below them, as the arithmetic says', () => {
    for (const [ts, seq] of [
      ['2026-01-01T00:00:00.000Z', 1],
      ['2026-01-01T00:00:00.007Z', 999_999],
      ['2026-12-07T02:30:00.123Z', 1_234_567],
      ['1970-01-01T00:00:00.001Z', 42],
      ['1970-01-01T00:00:00.000Z', 5],
      ['1969-12-31T23:59:59.999Z', 5],
    ] as const) {
      expect(eventTimestamp({ ts, seq }), `${ts} seq ${seq}`).toBe(arithmetic(ts, seq));
    }
  });
});

describe('eventPoints', () => {
  it('makes one events point with the subject tags and the text fields', () => {
    const e: StoredEvent = {
      seq: 7,
      id: 'e1',
      ts: '2026-01-01T00:00:00.000Z',
      node: 'site',
      type: 'container_down',
      severity: 'warning',
      subject: 'nas/web',
      data: { host: 'nas', container: 'web', title: 'web down', incident: { id: 'i1' } },
    };
    expect(eventPoints(e)).toEqual([
      {
        measurement: 'events',
        tags: {
          node: 'site',
          type: 'container_down',
          severity: 'warning',
          host: 'nas',
          container: 'web',
        },
        fields: { count: 1, id: 'e1', subject: 'nas/web', title: 'web down', incident: 'i1' },
        timestamp: '1767225600000000007',
      },
    ]);
  });
});
