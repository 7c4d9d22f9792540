import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { TokenBucket } from '../../../src/core/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full and refills at the rate, up to the capacity', () => {
    const clock = new ManualClock(1_000);
    const bucket = new TokenBucket(10, 3, clock);
    for (let i = 0; i < 3; i++) {
      expect(bucket.has()).toBe(true);
      bucket.take();
    }
    expect(bucket.has()).toBe(false);
    expect(bucket.msUntil()).toBe(100);
    clock.advance(50);
    bucket.refill();
    expect(bucket.has()).toBe(false);
    expect(bucket.msUntil()).toBe(50);
    clock.advance(50);
    bucket.refill();
    expect(bucket.has()).toBe(true);
    clock.advance(60_000);
    bucket.refill();
    expect(bucket.has(3)).toBe(true);
    bucket.take(3);
    expect(bucket.has()).toBe(false);
  });

  it('lets a take larger than the capacity go from a full bucket, as a debt', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(100, 100, clock);
    expect(bucket.has(500)).toBe(true);
    bucket.take(500);
    expect(bucket.has(1)).toBe(false);
    // 400 of debt, then the 100 a full bucket holds at most.
    expect(bucket.msUntil(500)).toBe(5_000);
    clock.advance(4_000);
    bucket.refill();
    expect(bucket.has(500)).toBe(false);
    clock.advance(1_000);
    bucket.refill();
    expect(bucket.has(500)).toBe(true);
  });

  it('raises a capacity below one to one', () => {
    const bucket = new TokenBucket(0.5, 0.5, new ManualClock());
    expect(bucket.has()).toBe(true);
    bucket.take();
    expect(bucket.msUntil()).toBe(2_000);
  });

  it('keeps a late wake-up as credit, and never leaves a waiter short', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(300, 1, clock);
    bucket.take();
    const wait = Math.ceil(bucket.msUntil()); // 3.33 ms of refill, waited as 4
    clock.advance(wait);
    bucket.refillAfterWait();
    bucket.take();
    // The 0.67 ms of overshoot count towards the next token: 2.67 ms to go, not 3.33.
    expect(bucket.msUntil()).toBeCloseTo(1000 / 300 - (wait - 1000 / 300), 9);
    // A sleep that did not move the clock still counts as the wait it was asked for.
    bucket.refillAfterWait();
    expect(bucket.has()).toBe(true);
  });

  it('caps the credit a late wake-up kept once it is spent', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1, 2, clock);
    bucket.take(2);
    clock.advance(10_000);
    bucket.refillAfterWait();
    bucket.take();
    expect(bucket.has(2)).toBe(true);
    bucket.take(2);
    expect(bucket.has()).toBe(false);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new TokenBucket(rate, 1, new ManualClock())).toThrow(RangeError);
    }
  });
});
