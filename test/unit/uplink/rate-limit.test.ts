import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../bridges/uplink/rate-limit.js';
import { ManualClock } from '../../../src/core/clock.js';

/** Takes `n` messages of `bytes` in one lane; counts how many were let through so far. */
function queue(pacer: Pacer, n: number, bytes: number, lane: 'live' | 'replay' = 'replay') {
  const order: number[] = [];
  const state = { passed: 0, order };
  for (let i = 0; i < n; i++) {
    const wait = pacer.take(bytes, lane);
    if (!wait) {
      state.passed++;
      order.push(i);
    } else {
      void wait.then(() => {
        state.passed++;
        order.push(i);
      });
    }
  }
  return state;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Pacer (token bucket, messages and bytes)', () => {
  it('lets everything through at once when unlimited', () => {
    const pacer = new Pacer({ messagesPerS: 0, bytesPerS: 0 }, new ManualClock());
    expect(pacer.unlimited).toBe(true);
    for (let i = 0; i < 10_000; i++) expect(pacer.take(1e6, 'replay')).toBeUndefined();
  });

  it('allows one second of burst, then the message rate', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ messagesPerS: 10, bytesPerS: 0 }, clock);
    const s = queue(pacer, 35, 100);
    expect(s.passed).toBe(10);
    clock.advance(1000);
    await tick();
    expect(s.passed).toBe(20);
    clock.advance(500);
    await tick();
    expect(s.passed).toBe(25);
    clock.advance(1000);
    await tick();
    expect(s.passed).toBe(35);
    expect(s.order).toEqual([...Array(35).keys()]);
  });

  it('limits bytes per second independently of messages', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ messagesPerS: 1000, bytesPerS: 1000 }, clock);
    const s = queue(pacer, 20, 250);
    expect(s.passed).toBe(4);
    clock.advance(1000);
    await tick();
    expect(s.passed).toBe(8);
    clock.advance(2000);
    await tick();
    expect(s.passed).toBe(16);
  });

  it('lets a message larger than the byte budget go once the bucket is full', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ messagesPerS: 0, bytesPerS: 100 }, clock);
    expect(pacer.take(500, 'replay')).toBeUndefined(); // full bucket: goes, leaves a debt
    const s = queue(pacer, 1, 500);
    clock.advance(4000);
    await tick();
    expect(s.passed).toBe(0); // 400 of debt, then the 100 a message needs at most
    clock.advance(1000);
    await tick();
    expect(s.passed).toBe(1);
  });

  it('serves live waiters before replay waiters, FIFO within each lane', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ messagesPerS: 2, bytesPerS: 0 }, clock);
    const order: string[] = [];
    const take = (name: string, lane: 'live' | 'replay') => {
      const w = pacer.take(10, lane);
      if (!w) order.push(name);
      else void w.then(() => order.push(name));
    };
    take('r1', 'replay');
    take('r2', 'replay');
    take('r3', 'replay');
    take('r4', 'replay');
    take('l1', 'live');
    take('l2', 'live');
    expect(pacer.waiting).toEqual({ live: 2, replay: 2 });
    clock.advance(500);
    await tick();
    clock.advance(500);
    await tick();
    expect(order).toEqual(['r1', 'r2', 'l1', 'l2']);
    clock.advance(1000);
    await tick();
    expect(order).toEqual(['r1', 'r2', 'l1', 'l2', 'r3', 'r4']);
  });

  it('does not let replay jump the queue of earlier replay waiters', () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ messagesPerS: 1, bytesPerS: 0 }, clock);
    expect(pacer.take(1, 'replay')).toBeUndefined();
    const waiting = pacer.take(1, 'replay');
    expect(waiting).toBeInstanceOf(Promise);
    void waiting!.catch(() => undefined);
    clock.advance(10_000); // fires the waiter's timer; the bucket refills to its cap of 1
    expect(pacer.take(1, 'replay')).toBeUndefined();
    const next = pacer.take(1, 'replay');
    expect(next).toBeInstanceOf(Promise);
    void next!.catch(() => undefined);
    pacer.close();
  });

  it('rejects waiters on close, and every take after it', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ messagesPerS: 1, bytesPerS: 0 }, clock);
    void pacer.take(1, 'replay');
    const w = pacer.take(1, 'replay');
    pacer.close();
    await expect(w).rejects.toThrow(/stopped/);
    await expect(pacer.take(1, 'live')).rejects.toThrow(/stopped/);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a negative or non-finite rate', () => {
    expect(() => new Pacer({ messagesPerS: -1, bytesPerS: 0 }, new ManualClock())).toThrow(
      /messages per second -1/,
    );
    expect(() => new Pacer({ messagesPerS: 0, bytesPerS: NaN }, new ManualClock())).toThrow(
      /bytes per second/,
    );
  });
});
