import { describe, expect, it } from 'vitest';
import { WriteBatcher } from '../../../bridges/influxdb/write-batcher.js';
import { ManualClock } from '../../../src/core/clock.js';

/** A writer whose requests the test answers one by one, in any order. */
function gate() {
  const requests: { lines: readonly string[]; ok(): void; fail(err: Error): void }[] = [];
  const write = (lines: readonly string[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push({ lines, ok: resolve, fail: reject });
    });
  return { requests, write };
}

/** The order in which deliveries settled, `N` or `N!` for a failure. */
function track(settled: string[], name: string, p: Promise<void>): void {
  p.then(
    () => settled.push(name),
    () => settled.push(`${name}!`),
  );
}

const tick = () => new Promise((r) => setImmediate(r));
const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m f=${from + i}`);

describe('WriteBatcher', () => {
  it('writes two requests at once, the next built while one is out', async () => {
    const { requests, write } = gate();
    const b = new WriteBatcher({ write, batchSize: 3, flushMs: 1000, clock: new ManualClock() });
    const settled: string[] = [];
    track(settled, 'a', b.add(lines(0, 4)));
    track(settled, 'b', b.add(lines(4, 4)));
    track(settled, 'c', b.add(lines(8, 1)));
    await tick();
    // Three requests are full (lines 0-8); two are out, the third waits for a slot.
    expect(requests.map((r) => r.lines)).toEqual([lines(0, 3), lines(3, 3)]);
    requests[1]!.ok(); // the second answers first…
    await tick();
    expect(requests.map((r) => r.lines)).toEqual([lines(0, 3), lines(3, 3), lines(6, 3)]);
    expect(settled).toEqual([]); // …but no delivery settles before the one before it
    requests[0]!.ok();
    await tick();
    // a ends in request 2 (done); b and c end in request 3, still out.
    expect(settled).toEqual(['a']);
    requests[2]!.ok();
    await tick();
    expect(settled).toEqual(['a', 'b', 'c']);
  });

  it('never has more than one out with inFlight 1', async () => {
    const { requests, write } = gate();
    const b = new WriteBatcher({
      write,
      batchSize: 2,
      flushMs: 1000,
      inFlight: 1,
      clock: new ManualClock(),
    });
    const settled: string[] = [];
    track(settled, 'a', b.add(lines(0, 6)));
    await tick();
    expect(requests).toHaveLength(1);
    requests[0]!.ok();
    await tick();
    expect(requests).toHaveLength(2);
    requests[1]!.ok();
    await tick();
    requests[2]!.ok();
    await tick();
    expect(settled).toEqual(['a']);
    expect(requests.map((r) => r.lines).flat()).toEqual(lines(0, 6));
  });

  it('fails every later delivery when a request fails, and sends none of those not out', async () => {
    const { requests, write } = gate();
    const b = new WriteBatcher({ write, batchSize: 2, flushMs: 1000, clock: new ManualClock() });
    const settled: string[] = [];
    track(settled, 'a', b.add(lines(0, 2)));
    track(settled, 'b', b.add(lines(2, 2)));
    track(settled, 'c', b.add(lines(4, 2)));
    track(settled, 'd', b.add(lines(6, 1))); // waits for more lines or the interval
    await tick();
    expect(requests).toHaveLength(2);
    requests[1]!.fail(new Error('down'));
    await tick();
    expect(settled).toEqual([]); // a is still out: it may land
    requests[0]!.ok();
    await tick();
    expect(settled).toEqual(['a', 'b!', 'c!', 'd!']);
    // c's request was never sent, nor d's line.
    expect(requests).toHaveLength(2);
  });

  it('writes a partial request once the interval passes', async () => {
    const { requests, write } = gate();
    const clock = new ManualClock();
    const b = new WriteBatcher({ write, batchSize: 100, flushMs: 1000, clock });
    const settled: string[] = [];
    track(settled, 'a', b.add(lines(0, 2)));
    track(settled, 'b', b.add(lines(2, 1)));
    track(settled, 'empty', b.add([]));
    await tick();
    expect(requests).toHaveLength(0);
    clock.advance(1000);
    await tick();
    expect(requests.map((r) => r.lines)).toEqual([lines(0, 3)]);
    requests[0]!.ok();
    await tick();
    expect(settled).toEqual(['a', 'b', 'empty']);
  });
});
