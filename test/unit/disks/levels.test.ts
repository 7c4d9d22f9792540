import { describe, expect, it } from 'vitest';
import { GrowthRate, MAX_SAMPLES } from '../../../src/capabilities/disks/growth.js';
import {
  nextLevel,
  thresholdsFor,
  type DiskLevel,
} from '../../../src/capabilities/disks/levels.js';
import { ManualClock } from '../../../src/core/clock.js';

const T = { warn: 85, critical: 95, hysteresis: 2 };

/** The levels a mount goes through for a series of used %. */
function walk(series: number[], t = T): DiskLevel[] {
  let level: DiskLevel = 'ok';
  return series.map((pct) => (level = nextLevel(level, pct, t)));
}

describe('disk levels', () => {
  it('are raised at their thresholds', () => {
    expect(walk([50, 84.9, 85, 94.9, 95, 100])).toEqual([
      'ok',
      'ok',
      'warn',
      'warn',
      'critical',
      'critical',
    ]);
    expect(walk([96])).toEqual(['critical']);
  });

  it('clear only hysteresis points below their threshold', () => {
    // Hovering around 85 % alerts once; 83 % clears it.
    expect(walk([85, 84, 83.5, 85.5, 83, 84])).toEqual([
      'warn',
      'warn',
      'warn',
      'warn',
      'ok',
      'ok',
    ]);
    // Critical stays until 93 %, then falls to warn, not to ok.
    expect(walk([95, 94, 93.1, 93, 90, 83])).toEqual([
      'critical',
      'critical',
      'critical',
      'warn',
      'warn',
      'ok',
    ]);
  });

  it('take a mount’s own thresholds from the first matching override', () => {
    const section = {
      ...T,
      mounts: [
        { path: '/mnt/backup', warn: 97, critical: 99 },
        { path: '/mnt/*', hysteresis: 5 },
      ],
    };
    expect(thresholdsFor('/mnt/backup', section)).toEqual({
      warn: 97,
      critical: 99,
      hysteresis: 2,
    });
    expect(thresholdsFor('/mnt/media', section)).toEqual({ warn: 85, critical: 95, hysteresis: 5 });
    expect(thresholdsFor('/', section)).toEqual(T);
  });
});

const GiB = 1024 ** 3;
const HOUR = 3_600_000;

describe('growth rate', () => {
  it('is unknown until the samples span a sixth of the window', () => {
    const clock = new ManualClock(0);
    const g = new GrowthRate(6 * HOUR);
    expect(g.add(clock.now(), 10 * GiB, 90 * GiB)).toEqual({
      bytesPerHour: null,
      timeToFullS: null,
    });
    clock.advance(30 * 60_000);
    expect(g.add(clock.now(), 10.5 * GiB, 89.5 * GiB).bytesPerHour).toBeNull();
    clock.advance(30 * 60_000);
    // 1 GiB in one hour, 89 GiB left: 89 hours.
    expect(g.add(clock.now(), 11 * GiB, 89 * GiB)).toEqual({
      bytesPerHour: GiB,
      timeToFullS: 89 * 3600,
    });
  });

  it('looks back only over its window', () => {
    const clock = new ManualClock(0);
    const g = new GrowthRate(2 * HOUR);
    let used = 0;
    // Fast growth long ago, then none for the last two hours.
    for (let i = 0; i < 4; i++, clock.advance(HOUR)) g.add(clock.now(), (used += 10 * GiB), GiB);
    for (let i = 0; i <= 2; i++, clock.advance(HOUR)) g.add(clock.now(), used, GiB);
    expect(g.growth(GiB)).toEqual({ bytesPerHour: 0, timeToFullS: null });
  });

  it('has no time to full while shrinking', () => {
    const g = new GrowthRate(HOUR);
    g.add(0, 50 * GiB, 50 * GiB);
    expect(g.add(HOUR, 40 * GiB, 60 * GiB)).toEqual({ bytesPerHour: -10 * GiB, timeToFullS: null });
  });

  it('keeps a bounded ring however often it is fed', () => {
    const g = new GrowthRate(6 * HOUR);
    for (let t = 0; t < 24 * HOUR; t += 1000) g.add(t, t, 1e12);
    expect(g.samples).toBeLessThanOrEqual(MAX_SAMPLES);
    // The rate still reads the window: one byte per millisecond.
    expect(g.growth(1e12).bytesPerHour).toBe(HOUR);
  });
});
