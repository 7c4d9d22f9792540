import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { HeapTrim, type GcFunction } from '../../../src/core/heap-trim.js';
import { silentLogger } from '../../../src/core/logger.js';

/** V8's real collector, as `--expose-gc` would install it. */
function v8Gc(): GcFunction {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as GcFunction;
}

const used = () => getHeapStatistics().used_heap_size;
const MiB = 1024 * 1024;
const settle = () => new Promise((r) => setImmediate(r));

describe('HeapTrim', () => {
  it('gives back garbage left in the old generation', async () => {
    const gc = v8Gc();
    const trim = new HeapTrim({ clock: new ManualClock(), log: silentLogger(), gc });
    // Survives scavenges (held while allocated), then dropped: old-generation garbage.
    let held: { i: number; s: string }[] | undefined = [];
    for (let i = 0; i < 300_000; i++) held.push({ i, s: `item-${i}` });
    expect(held.length).toBe(300_000);
    held = undefined;
    const before = used();
    await trim.collect();
    expect(trim.collections).toBe(1);
    expect(before - used()).toBeGreaterThan(10 * MiB);
  });

  it('collects on its clock while the agent is busy, until stopped', async () => {
    const clock = new ManualClock();
    let calls = 0;
    let cpu = 500;
    const trim = new HeapTrim({
      clock,
      log: silentLogger(),
      gc: () => {
        calls++;
      },
      everyMs: 1_000,
      cpuMs: () => cpu,
    });
    await trim.start();
    cpu += 50;
    clock.advance(999);
    expect(calls).toBe(0);
    clock.advance(1);
    await settle();
    expect(calls).toBe(1);
    // Idle: next to no CPU since the last tick.
    cpu += 5;
    clock.advance(1_000);
    await settle();
    expect(calls).toBe(1);
    cpu += 30;
    clock.advance(1_000);
    await settle();
    expect(calls).toBe(2);
    await trim.stop();
    cpu += 1_000;
    clock.advance(10_000);
    await settle();
    expect(calls).toBe(2);
  });

  it('does nothing without an exposed collector', async () => {
    const clock = new ManualClock();
    const trim = new HeapTrim({ clock, log: silentLogger() });
    await trim.start();
    expect(trim.enabled).toBe(false);
    await trim.collect();
    clock.advance(60_000);
    expect(trim.collections).toBe(0);
    await trim.stop();
  });
});
