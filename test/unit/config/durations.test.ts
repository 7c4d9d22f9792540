import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fieldsWhere } from '../../../src/config/introspect.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';
import { DURATION_CEILING, durationFields, parseDuration } from '../../../src/config/units.js';

/**
 * Issue 13, point 6: every duration key is honoured at any length or refused by
 * check-config with its maximum. The keys come from the schema itself, so one added later
 * is covered here without editing this file.
 */
const DAY = 86_400_000;
const LONG = '400d'; // far past Node's single-timer limit of ~24.8 days

const durations = fieldsWhere(configSchema, (s) => durationFields.has(s)).map((f) => ({
  ...f,
  ...durationFields.get(f.matched)!,
}));

/** A config holding `value` at `path` (`a.b[].c`: a list of one entry), as YAML would. */
function configWith(path: string, value: string): Record<string, unknown> {
  const root: Record<string, unknown> = { node: { id: 'n1' }, data_dir: '/tmp/outpost-durations' };
  let at = root;
  const keys = path.split('.');
  keys.forEach((key, i) => {
    const last = i === keys.length - 1;
    if (key.endsWith('[]')) {
      const entry: Record<string, unknown> = {};
      at[key.slice(0, -2)] = [entry];
      at = entry;
    } else if (last) {
      at[key] = value;
    } else {
      const next = (at[key] ??= {}) as Record<string, unknown>;
      at = next;
    }
  });
  return root;
}

/** What check-config says about the key at `path` (lists hold one entry, index 0). */
function problemsAt(path: string, value: string): string[] {
  const where = path.replaceAll('[]', '[0]');
  try {
    parseConfig(JSON.stringify(configWith(path, value)), { env: {} });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.filter((p) => p.path === where).map((p) => `${p.path}: ${p.message}`);
  }
}

describe('every duration key of the config schema', () => {
  it('finds the duration keys by walking the schema', () => {
    const paths = durations.map((d) => d.path);
    // A few known ones, from the top level, a capability section and a list entry.
    expect(paths).toEqual(
      expect.arrayContaining([
        'remediation.approval_timeout',
        'containers.down_after',
        'watchdog.checks[].timeout',
        'mqtt.keepalive',
      ]),
    );
    expect(paths.length).toBeGreaterThanOrEqual(20);
  });

  describe.each(durations)('$path', ({ path, field, max, maxMs }) => {
    it(`takes ${LONG} with the exact ms, or refuses it naming its maximum`, () => {
      const parsed = (field as z.ZodType).safeParse(LONG);
      if (maxMs >= 400 * DAY) {
        expect(parsed.success && parsed.data).toBe(400 * DAY);
        expect(problemsAt(path, LONG)).toEqual([]);
      } else {
        expect(parsed.success).toBe(false);
        expect(problemsAt(path, LONG)).toEqual([
          `${path.replaceAll('[]', '[0]')}: expected at most ${max}, got "${LONG}"`,
        ]);
      }
    });

    it(`takes its maximum ${max} and refuses 1 ms more`, () => {
      expect(parseDuration(max)).toBe(maxMs);
      expect((field as z.ZodType).safeParse(max)).toMatchObject({ success: true, data: maxMs });
      expect(problemsAt(path, max)).toEqual([]);
      expect(problemsAt(path, `${max}1ms`)).toEqual([
        `${path.replaceAll('[]', '[0]')}: expected at most ${max}, got "${max}1ms"`,
      ]);
    });

    it(`stops at ${DURATION_CEILING} whatever its maximum`, () => {
      expect(maxMs).toBeLessThanOrEqual(parseDuration(DURATION_CEILING)!);
      for (const huge of ['36501d', `${'9'.repeat(400)}d`]) {
        expect(problemsAt(path, huge)).toEqual([
          expect.stringContaining(`: expected at most ${max}, got "`),
        ]);
      }
    });
  });
});
