import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { storedEventSchema } from '../../../src/core/events.js';
import { ulidGenerator, ulidTime } from '../../../src/store/ulid.js';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('ulidGenerator', () => {
  it('encodes the time in the first 10 characters (the spec example time)', () => {
    // The spec's example: 1469918176385 ms encodes as 01ARYZ6S41.
    const id = ulidGenerator()(1469918176385);
    expect(id.slice(0, 10)).toBe('01ARYZ6S41');
    expect(id).toMatch(CROCKFORD);
    expect(ulidTime(id)).toBe(1469918176385);
  });

  it('uses the random bytes for the last 16 characters', () => {
    const next = ulidGenerator((buf) => buf.fill(31));
    expect(next(0)).toBe('0000000000ZZZZZZZZZZZZZZZZ');
  });

  it('increments the random part within one ms, carrying across digits', () => {
    let fills = 0;
    const next = ulidGenerator((buf) => {
      for (let i = 0; i < buf.length; i++) buf[i] = i % 16 === 15 ? 30 : 0;
      fills++;
    });
    expect(next(5).slice(10)).toBe('000000000000000Y');
    expect(next(5).slice(10)).toBe('000000000000000Z');
    expect(next(5).slice(10)).toBe('0000000000000010');
    expect(fills).toBe(1);
  });

  it('moves to the next ms when the random part is exhausted', () => {
    const next = ulidGenerator((buf) => buf.fill(31));
    const a = next(7);
    const b = next(7);
    expect(ulidTime(a)).toBe(7);
    expect(ulidTime(b)).toBe(8);
    expect(b > a).toBe(true);
  });

  it('is strictly increasing and unique whatever the clock does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1, maxLength: 200 }),
        (times) => {
          const next = ulidGenerator();
          const ids = times.map((t) => next(t));
          for (let j = 1; j < ids.length; j++) expect(ids[j]! > ids[j - 1]!).toBe(true);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of ids) expect(id).toMatch(CROCKFORD);
        },
      ),
    );
  });

  it('sorts ids of later ms after earlier ones, across generators', () => {
    const a = ulidGenerator((buf) => buf.fill(31))(1000);
    const b = ulidGenerator((buf) => buf.fill(0))(1001);
    expect(a < b).toBe(true);
  });

  it('produces ids the event schema accepts', () => {
    const id = ulidGenerator()(Date.now());
    expect(storedEventSchema.shape.id.safeParse(id).success).toBe(true);
  });

  it('rejects times a ULID cannot hold', () => {
    const next = ulidGenerator();
    expect(() => next(-1)).toThrow(RangeError);
    expect(() => next(2 ** 48)).toThrow(RangeError);
    expect(() => ulidTime('not-a-ulid')).toThrow(TypeError);
  });
});
