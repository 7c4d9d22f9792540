import { describe, expect, it } from 'vitest';
import { PollSlots } from '../../../src/collectors/containers/poll-slots.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('PollSlots', () => {
  it('lets at most `size` polls run at once, the others in arrival order', async () => {
    const slots = new PollSlots(2);
    const order: number[] = [];
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const poll = async (i: number) => {
      const release = await slots.acquire();
      running++;
      most = Math.max(most, running);
      order.push(i);
      await new Promise<void>((r) => gates.push(r));
      running--;
      release();
    };
    const all = Promise.all([0, 1, 2, 3, 4].map(poll));
    await tick();
    expect([slots.busy, slots.waiting, order]).toEqual([2, 3, [0, 1]]);
    while (gates.length > 0 || order.length < 5) {
      gates.shift()?.();
      await tick();
    }
    await all;
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect([slots.busy, slots.waiting]).toEqual([0, 0]);
  });

  it('ignores a second release of the same slot', async () => {
    const slots = new PollSlots(1);
    const a = await slots.acquire();
    const b = slots.acquire();
    const c = slots.acquire();
    a();
    a();
    await b;
    expect([slots.busy, slots.waiting]).toEqual([1, 1]);
    (await b)();
    (await c)();
    expect(slots.busy).toBe(0);
  });

  it('refuses a size below 1', () => {
    expect(() => new PollSlots(0)).toThrow(RangeError);
  });
});
