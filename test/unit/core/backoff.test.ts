import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/core/backoff.js';
import { ManualClock } from '../../../src/core/clock.js';

describe('Backoff', () => {
  it('doubles up to the cap without jitter', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('keeps jittered delays within [d*(1-j), d]', () => {
    let r = 0;
    const randoms = [0, 0.5, 0.999];
    const b = new Backoff({
      initialMs: 1000,
      maxMs: 1000,
      jitter: 0.5,
      random: () => randoms[r++ % 3]!,
    });
    expect([b.next(), b.next(), b.next()]).toEqual([500, 750, 1000]);
  });
});

describe('ManualClock', () => {
  it('fires timers in time order and only when due', () => {
    const c = new ManualClock(1000);
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b'), 200);
    const a = c.setTimeout(() => fired.push('a'), 100);
    c.setTimeout(() => fired.push('c'), 300);
    c.clearTimeout(a);
    c.advance(250);
    expect(fired).toEqual(['b']);
    expect(c.now()).toBe(1250);
    c.advance(100);
    expect(fired).toEqual(['b', 'c']);
    expect(c.pendingTimers).toBe(0);
  });
});
