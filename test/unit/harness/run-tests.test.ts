import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm test`'s own pipeline (scripts/run-tests.mjs, vitest, test/helpers/summary-reporter.ts)
 * run on the fixture files under test/fixtures/run-tests/, which fail on purpose: whatever
 * fails, the closing line counts it and the exit code says so.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** A whole vitest start per run: seconds on an idle machine, more on a busy one. */
const RUN_TIMEOUT = 120_000;

interface Run {
  code: number;
  /** The last line: "N passed, N failed, N skipped". */
  closing: string;
  out: string;
}

function runTests(filter: string, env: Record<string, string> = {}): Promise<Run> {
  // The fixtures run in a vitest of their own: nothing of this worker's vitest leaks in.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(VITEST|TEST$|CI$)/.test(k)),
  );
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['scripts/run-tests.mjs', filter],
      {
        cwd: ROOT,
        env: {
          ...inherited,
          NO_COLOR: '1',
          OUTPOST_TEST_FIXTURES: 'test/fixtures/run-tests',
          ...env,
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (code === -1) return reject(err ?? new Error('no exit code'));
        const out = `${stdout}${stderr}`;
        const lines = stdout.trimEnd().split('\n');
        resolve({ code, closing: lines.at(-1) ?? '', out });
      },
    );
  });
}

describe('npm test’s closing line', { timeout: RUN_TIMEOUT }, () => {
  it('counts the tests of a suite whose beforeAll threw as failed, not skipped', async () => {
    const r = await runTests('setup-fails');
    expect(r.closing).toBe('1 passed, 2 failed, 0 skipped');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(
      'setup-fails.test.js > a suite whose setup throws > never runs: not run, ' +
        'suite "a suite whose setup throws" failed: setup failed on purpose',
    );
  });

  it('counts a file that failed to import as failed', async () => {
    const r = await runTests('import-fails');
    expect(r.closing).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/import-fails\.test\.js: the file failed: .*no-such-module\.js/);
  });

  it('counts an unhandled error as failed, even when every test passed', async () => {
    const r = await runTests('unhandled');
    expect(r.closing).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('unhandled error: unhandled on purpose');
  });

  it('lists which file skipped what, and exits 0 when nothing failed', async () => {
    const r = await runTests('skips');
    expect(r.closing).toBe('1 passed, 0 failed, 4 skipped');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'test/fixtures/run-tests/skips.test.js: 4 (a suite skipped by a condition > is skipped; ' +
        'is skipped by hand; is still to write (todo); skips itself with a note (nothing to check here))',
    );
  });

  it('skips a suite for a missing capability outside CI, listed', async () => {
    const r = await runTests('capability');
    expect(r.closing).toBe('1 passed, 0 failed, 1 skipped');
    expect(r.code).toBe(0);
    expect(r.out).toContain('capability.test.js: 1 (a suite that needs it > would run)');
  });

  it('fails a suite for a missing capability under CI=true, naming what is missing', async () => {
    const r = await runTests('capability', { CI: 'true' });
    expect(r.closing).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(
      'capability.test.js: the file failed: CI=true, and a capability for the fixture is ' +
        'impossible here: missing on purpose',
    );
  });

  it('adds up every kind of failure in one run', async () => {
    const r = await runTests('test/fixtures/run-tests/');
    expect(r.closing).toBe('4 passed, 4 failed, 5 skipped');
    expect(r.code).not.toBe(0);
  });

  it('fails a run in which no test ran', async () => {
    const r = await runTests('no-such-fixture');
    expect(r.closing).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.code).not.toBe(0);
  });
});
