import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ArmTimer,
  chainedTimeout,
  clearChainedTimeout,
  MAX_TIMER_DELAY_MS,
  systemClock,
  type TimerHandle,
} from '../../../src/core/clock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Process warnings while a test runs (TimeoutOverflowWarning among them). */
function watchWarnings(): Error[] {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(async () => {
    await new Promise((r) => process.nextTick(r)); // warnings are emitted on the next tick
    process.off('warning', onWarning);
  });
  return warnings;
}

/** Node's setTimeout, recording each link's delay; `after` hears of each link armed. */
function recordingArm(after?: (n: number, callback: () => void) => void) {
  const delays: number[] = [];
  const arm: ArmTimer = (fn, ms) => {
    const t = setTimeout(fn, ms);
    delays.push(ms);
    after?.(delays.length, fn);
    return t;
  };
  return { delays, arm };
}

describe('chainedTimeout (real timers, a tiny maximum delay)', () => {
  const warnings = watchWarnings();
  const MAX = 5;
  const TOTAL = 60; // a dozen links of MAX; fewer when the machine is slow, never fewer than 2

  it('fires once, after the full time, through a chain of timers none longer than the maximum', async () => {
    const { delays, arm } = recordingArm();
    let fired = 0;
    let firedAfter = 0;
    const t0 = performance.now();
    chainedTimeout(
      () => {
        fired++;
        firedAfter = performance.now() - t0;
      },
      TOTAL,
      MAX,
      arm,
    );
    await sleep(TOTAL + 100);
    expect(fired).toBe(1);
    // Node arms each timer from the event loop's cached time, which a busy iteration leaves
    // a few ms behind the clock: a chain may end up to a link early, never at once.
    expect(firedAfter).toBeGreaterThanOrEqual(TOTAL - MAX);
    expect(delays.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX);
    expect(warnings).toEqual([]);
  });

  it('keeps one handle for the whole chain', async () => {
    const { delays, arm } = recordingArm();
    let fired = 0;
    const h = chainedTimeout(() => fired++, TOTAL, MAX, arm);
    const seen = new Set<TimerHandle>([h]);
    await sleep(TOTAL / 2);
    expect(delays.length).toBeGreaterThan(1);
    seen.add(h);
    clearChainedTimeout(h);
    await sleep(TOTAL + 20);
    expect(seen.size).toBe(1);
    expect(fired).toBe(0);
  });

  // The first link, the second, and the last one (the only link armed with the callback).
  const stages = { first: (n: number) => n === 1, second: (n: number) => n === 2, last: null };
  for (const [stage, at] of Object.entries(stages)) {
    it(`clearTimeout cancels it while it waits on its ${stage} link`, async () => {
      let fired = 0;
      const fn = () => fired++;
      let armedWhenCleared = 0;
      const { delays, arm } = recordingArm((n, callback) => {
        if (at ? !at(n) : callback !== fn) return;
        // Cleared from outside the timer callback, as a caller would, once this link waits.
        queueMicrotask(() => {
          armedWhenCleared = delays.length;
          clearChainedTimeout(handle);
        });
      });
      const handle = chainedTimeout(fn, TOTAL, MAX, arm);
      await sleep(TOTAL + 50);
      expect(armedWhenCleared).toBeGreaterThan(0);
      expect(delays.length).toBe(armedWhenCleared); // nothing armed after the clear
      expect(fired).toBe(0);
    });
  }

  it('leaves short timers to one plain Node timer', async () => {
    const { delays, arm } = recordingArm();
    let fired = 0;
    chainedTimeout(() => fired++, 3, MAX, arm);
    await sleep(30);
    expect(fired).toBe(1);
    expect(delays).toEqual([3]);
  });
});

describe('systemClock past the 32-bit limit', () => {
  const warnings = watchWarnings();

  it('does not fire a 25-day timer at once, and warns of no overflow', async () => {
    let fired = 0;
    const h = systemClock.setTimeout(() => fired++, 25 * 86_400_000);
    await sleep(30);
    systemClock.clearTimeout(h);
    expect(fired).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('still fires and cancels short timers', async () => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, 5);
    const cancelled = systemClock.setTimeout(() => fired++, 10);
    systemClock.clearTimeout(cancelled);
    await sleep(40);
    expect(fired).toBe(1);
  });

  it('(control) the warning listener does see an overflowing Node timer', async () => {
    const t = setTimeout(() => undefined, MAX_TIMER_DELAY_MS + 1);
    clearTimeout(t);
    await new Promise((r) => process.nextTick(r));
    expect(warnings.map((x) => x.name)).toEqual(['TimeoutOverflowWarning']);
  });
});
