import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shJoin, shQuote } from '../../../src/hosts/shell-quote.js';

/** What a real POSIX shell makes of the quoted words: one argument per line, NUL-separated. */
function wordsAfterShell(argv: readonly string[]): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shJoin(argv)}`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

describe('shQuote', () => {
  it('wraps in single quotes and escapes embedded single quotes', () => {
    expect(shQuote('docker')).toBe("'docker'");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(shQuote('')).toBe("''");
  });

  it('hands hostile words to the shell as literal single arguments', () => {
    const hostile = [
      '$(touch /tmp/outpost-quote-pwned)',
      '`id`',
      "'; rm -rf / #",
      'a b\tc\nd',
      '"$HOME" ${PATH} $1 \\',
      '*',
      '-H',
      '',
      'ünïcødé ✓',
    ];
    expect(wordsAfterShell(hostile)).toEqual(hostile);
  });

  it('survives any string without NUL (property, real /bin/sh)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
          { minLength: 1, maxLength: 4 },
        ),
        (argv) => {
          expect(wordsAfterShell(argv)).toEqual(argv);
        },
      ),
      { numRuns: 60 },
    );
    // 60 real shells: on a loaded machine a spawn can take a second.
  }, 120_000);

  it('refuses a NUL, which no shell argument can hold', () => {
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
  });
});
