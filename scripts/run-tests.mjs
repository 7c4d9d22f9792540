// Runs vitest (arguments pass through: `npm test -- test/unit`) and ends the log with a
// short list of what was skipped and what failed, then one plain closing line,
// "N passed, N failed, N skipped", whatever the outcome. test/helpers/summary-reporter.ts
// counts: a suite whose setup failed, a file that failed to load and an unhandled error
// are failures there, not skips or nothing. The exit code is non-zero whenever the failed
// count is, and the failed count is never 0 when vitest itself failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'outpost-test-run-'));
const summaryFile = join(dir, 'summary.json');
const run = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--config',
    'test/vitest.config.ts',
    '--reporter=default',
    '--reporter=./test/helpers/summary-reporter.ts',
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, OUTPOST_TEST_SUMMARY: summaryFile } },
);

const s = existsSync(summaryFile)
  ? JSON.parse(readFileSync(summaryFile, 'utf8'))
  : { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
rmSync(dir, { recursive: true, force: true });
const fail = (line) => {
  s.failed++;
  s.failures.push(line);
};
const status = run.status ?? 1;
if (run.error) fail(`vitest did not start: ${run.error.message}`);
else if (run.signal) fail(`vitest was killed by ${run.signal}`);
else if (status !== 0 && s.failed === 0) fail(`vitest exited with status ${status}`);
if (s.passed + s.failed + s.skipped === 0) fail('no test ran');

const list = (title, lines) => {
  if (lines.length === 0) return;
  console.log(`\n${title}:`);
  for (const l of lines.slice(0, 20)) console.log(`  ${l}`);
  if (lines.length > 20) console.log(`  … and ${lines.length - 20} more`);
};
list(
  'skipped',
  s.skips.map(({ file, tests }) => {
    const names = tests.slice(0, 5).join('; ') + (tests.length > 5 ? '; …' : '');
    return `${file}: ${tests.length} (${names})`;
  }),
);
list('failed', s.failures);
console.log(`\n${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
process.exit(s.failed > 0 ? status || 1 : 0);
