import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/args.js';
import { buildQuery, parseWhen } from '../../../src/cli/events.js';

const NOW = Date.UTC(2026, 0, 2, 12, 0, 0);

describe('outpost events options', () => {
  it('reads --since and --until as a duration back from now or an ISO 8601 time', () => {
    expect(parseWhen('--since', '1h', NOW)).toBe(NOW - 3_600_000);
    expect(parseWhen('--since', '1h30m', NOW)).toBe(NOW - 5_400_000);
    expect(parseWhen('--since', '2026-01-01', NOW)).toBe(Date.UTC(2026, 0, 1));
    expect(parseWhen('--until', '2026-01-01T06:30:00Z', NOW)).toBe(Date.UTC(2026, 0, 1, 6, 30));
    expect(parseWhen('--until', '2026-01-01T06:30:00+02:00', NOW)).toBe(
      Date.UTC(2026, 0, 1, 4, 30),
    );
  });

  it('names a bad value and the forms it takes', () => {
    for (const bad of ['1x', 'yesterday', '1', '2026-13-45', '']) {
      expect(() => parseWhen('--since', bad, NOW)).toThrow(UsageError);
    }
    expect(() => parseWhen('--since', '1x', NOW)).toThrow(
      '--since "1x": expected a duration back from now such as 30m, 1h or 2d (units ms, s, m, h, d) ' +
        'or an ISO 8601 time such as 2024-05-01T12:00:00Z',
    );
  });

  it('takes --type repeated and as a comma list', () => {
    const q = buildQuery({ type: ['container_down,disk_pressure', ' backup_failed'] }, NOW);
    expect(q.type).toEqual(['container_down', 'disk_pressure', 'backup_failed']);
    expect(() => buildQuery({ type: ['Container-Down'] }, NOW)).toThrow(
      '--type "Container-Down": expected a snake_case event type',
    );
  });

  it('checks --severity and --limit, and defaults the limit to 1000', () => {
    expect(buildQuery({}, NOW)).toEqual({ limit: 1000 });
    expect(buildQuery({ severity: 'warning', limit: '20' }, NOW)).toEqual({
      severity: 'warning',
      limit: 20,
    });
    // The log level names mean the same severities (issue 20: `log.level: warn` was taken).
    expect(buildQuery({ severity: 'warn' }, NOW).severity).toBe('warning');
    expect(buildQuery({ severity: 'fatal' }, NOW).severity).toBe('critical');
    expect(buildQuery({ severity: 'trace' }, NOW).severity).toBe('debug');
    expect(() => buildQuery({ severity: 'warnings' }, NOW)).toThrow(
      '--severity "warnings": expected one of debug, info, warning, error, critical (or the log levels trace, warn, fatal)',
    );
    for (const bad of ['0', '-1', '1.5', 'ten']) {
      expect(() => buildQuery({ limit: bad }, NOW)).toThrow(
        /--limit .*: expected a positive integer/,
      );
    }
  });
});
