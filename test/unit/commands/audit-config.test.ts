import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

describe('remediation.audit config', () => {
  it('defaults to 10MiB × 5 rotated files kept 90 days', () => {
    const { config } = parseConfig('node: { id: n1 }', { env: {} });
    expect(config.remediation.audit).toEqual({
      max_bytes: 10 * 1024 ** 2,
      keep: 5,
      max_age: 90 * 86_400_000,
    });
  });

  it('takes sizes and durations with units, and names what it refuses', () => {
    const { config } = parseConfig(
      'remediation: { audit: { max_bytes: 64KiB, keep: 2, max_age: 12h } }',
      { env: {} },
    );
    expect(config.remediation.audit).toEqual({ max_bytes: 65_536, keep: 2, max_age: 43_200_000 });
    let problems: string[] = [];
    try {
      parseConfig('remediation: { audit: { max_bytes: 1KiB, keep: 0, max_age: soon } }', {
        env: {},
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual([
      expect.stringMatching(/^remediation\.audit\.max_bytes: expected a size of 4KiB or more/),
      expect.stringMatching(/^remediation\.audit\.keep: expected a whole number of rotated files/),
      expect.stringMatching(/^remediation\.audit\.max_age: expected a duration such as "90d"/),
    ]);
  });
});
