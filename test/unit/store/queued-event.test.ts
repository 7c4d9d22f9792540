import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { payloadBytes, StoreError } from '../../../src/store/event-store.js';
import { eventBytes, queueEvent, serialiseData } from '../../../src/store/queued-event.js';

const ctx = (node: string) => ({ path: '/data/events.db', nodeBytes: Buffer.byteLength(node) });

describe('eventBytes', () => {
  it('is payloadBytes of the event as stored, whatever the subject, data and node (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.dictionary(fc.string(), fc.oneof(fc.string({ unit: 'binary' }), fc.integer())),
        (subject, node, data) => {
          const e = { type: 'container_down', severity: 'warning' as const, subject, data };
          const json = serialiseData('/data/events.db', e);
          const stored = {
            id: '01ARYZ6S41TSV4RRFFQ69G5FAV',
            ts: new Date(0).toISOString(),
            node,
            type: e.type,
            severity: e.severity,
            subject,
          };
          expect(eventBytes(ctx(node), e, json, Infinity)).toBe(payloadBytes(stored, json));
        },
      ),
    );
  });

  it('refuses an event over the bound with bad_event saying its size and the limit', () => {
    const e = { type: 'container_down', severity: 'info' as const, subject: 's', data: {} };
    expect(() => eventBytes(ctx('n'), e, '{}', 10)).toThrow(
      /event of 72 bytes exceeds the 10-byte limit per event/,
    );
  });
});

describe('queueEvent', () => {
  it('names the field that is wrong, the value and what was expected', () => {
    const bad = (over: object) => () =>
      queueEvent(
        '/data/events.db',
        { type: 'container_down', severity: 'info', subject: 's', ...over },
        0,
        undefined,
        undefined,
      );
    expect(bad({ severity: 'fatal' })).toThrow(
      /severity "fatal": expected debug, info, warning, error or critical/,
    );
    expect(bad({ type: 'Bad' })).toThrow(/type "Bad": expected a snake_case event type/);
    expect(bad({ ts: 'yesterday' })).toThrow(/ts "yesterday": expected epoch ms/);
    expect(bad({ data: [1] })).toThrow(/data: expected a JSON object/);
    expect(bad({ subject: 7 })).toThrow(/subject: expected a string/);
    expect(bad({ type: 'Bad' })).toThrow(StoreError);
  });

  it('keeps checking a type it has already accepted once with another value', () => {
    const q = (type: string) =>
      queueEvent('/p', { type, severity: 'info', subject: 's' }, 0, undefined, undefined);
    expect(q('disk_pressure').event.type).toBe('disk_pressure');
    expect(() => q('Disk_Pressure')).toThrow(/type "Disk_Pressure"/);
  });
});
