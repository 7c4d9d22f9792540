import { describe, expect, it } from 'vitest';
import { spokenDuration } from '../../../src/core/spoken-duration.js';

describe('spokenDuration', () => {
  it('says a duration the way an alert should: two units at most, rounded down', () => {
    const s = 1000;
    expect(
      [0, 45 * s, 60 * s, 359 * s, 3600 * s, 7500 * s, 86_400 * s, 100_000 * s, -5].map(
        spokenDuration,
      ),
    ).toEqual(['0 s', '45 s', '1 min', '5 min', '1 h', '2 h 5 min', '1 d', '1 d 3 h', '0 s']);
  });
});
