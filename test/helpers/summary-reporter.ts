import { writeFileSync } from 'node:fs';
import type {
  Reporter,
  SerializedError,
  TestCase,
  TestModule,
  TestRunEndReason,
  TestSuite,
} from 'vitest/node';

/** Where scripts/run-tests.mjs wants the summary (a JSON RunSummary). */
export const SUMMARY_ENV = 'OUTPOST_TEST_SUMMARY';

/** What scripts/run-tests.mjs prints at the end of a run. */
export interface RunSummary {
  passed: number;
  /** Failed tests, tests that never ran because their setup failed, files that failed to
   * load, suite errors no failed test accounts for (an afterAll that threw), unhandled errors. */
  failed: number;
  skipped: number;
  /** One line per failure counted. */
  failures: string[];
  /** Per file, the tests it skipped and why when known. */
  skips: { file: string; tests: string[] }[];
}

/**
 * Counts a run so that nothing failing reads as green. vitest marks the tests of a suite
 * whose beforeAll threw as skipped, and a file that fails to import or an unhandled error
 * has no test to fail: each of those counts as failed here. Loaded by scripts/run-tests.mjs
 * beside the default reporter.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason,
  ): void {
    const summary = summarize(modules, unhandledErrors, reason);
    const file = process.env[SUMMARY_ENV];
    if (file) writeFileSync(file, JSON.stringify(summary));
  }
}

export function summarize(
  modules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<SerializedError>,
  reason: TestRunEndReason,
): RunSummary {
  const s: RunSummary = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  const fail = (line: string) => {
    s.failed++;
    s.failures.push(line);
  };
  for (const m of modules) {
    const file = m.relativeModuleId;
    const failedBefore = s.failed;
    /** Suites (and the file) whose errors a test counted below already reports. */
    const reported = new Set<TestSuite | TestModule>();
    const skipped: string[] = [];
    for (const t of m.children.allTests()) {
      const r = t.result();
      if (r.state === 'passed') s.passed++;
      else if (r.state === 'failed') fail(`${file} > ${t.fullName}`);
      else if (r.state === 'pending') fail(`${file} > ${t.fullName}: did not finish`);
      else {
        const broken = t.options.mode === 'run' ? brokenAncestor(t) : undefined;
        if (broken) {
          reported.add(broken);
          fail(`${file} > ${t.fullName}: not run, ${where(broken)} failed: ${firstError(broken)}`);
        } else {
          s.skipped++;
          skipped.push(skipLabel(t, r.note));
        }
      }
    }
    // Errors no test carries: a file that failed to import, an afterAll that threw.
    for (const holder of [m, ...m.children.allSuites()]) {
      if (holder.errors().length > 0 && !reported.has(holder)) {
        fail(`${file}: ${where(holder)} failed: ${firstError(holder)}`);
      }
    }
    const state = m.state();
    if (state === 'queued' || state === 'pending') fail(`${file}: did not run to the end`);
    else if (state === 'failed' && s.failed === failedBefore) fail(`${file}: failed`);
    if (skipped.length > 0) s.skips.push({ file, tests: skipped });
  }
  for (const e of unhandledErrors) fail(`unhandled error: ${firstLine(e.message)}`);
  if (reason === 'interrupted') fail('the run was interrupted');
  return s;
}

/** The nearest enclosing suite (or the file) that has errors of its own. */
function brokenAncestor(t: TestCase): TestSuite | TestModule | undefined {
  for (let p: TestSuite | TestModule = t.parent; ; p = p.parent) {
    if (p.errors().length > 0) return p;
    if (p.type === 'module') return undefined;
  }
}

function where(holder: TestSuite | TestModule): string {
  return holder.type === 'module' ? 'the file' : `suite "${holder.fullName}"`;
}

function firstError(holder: TestSuite | TestModule): string {
  return firstLine(holder.errors()[0]?.message ?? 'unknown error');
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 200);
}

function skipLabel(t: TestCase, note: string | undefined): string {
  const why = note ?? (t.options.mode === 'todo' ? 'todo' : undefined);
  return why ? `${t.fullName} (${why})` : t.fullName;
}
