import { defineConfig } from 'vitest/config';

/**
 * The one vitest config, two projects: `unit` (pure logic, no servers) and `integration`
 * (real servers on loopback). Only the integration project has the global setup that
 * installs the servers and reaps leftovers; vitest runs a project's global setup only when
 * that project has files to run, so `npm test -- test/unit` starts nothing.
 *
 * OUTPOST_TEST_FIXTURES (a directory) replaces both with the fixture files there, which fail
 * on purpose: test/unit/harness/run-tests.test.ts runs `npm test`'s own pipeline on them.
 */
const fixtures = process.env.OUTPOST_TEST_FIXTURES;

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real servers; two workers match this 2-core machine.
    maxWorkers: 2,
    projects: fixtures
      ? [{ extends: true, test: { name: 'fixtures', include: [`${fixtures}/*.test.js`] } }]
      : [
          { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
          {
            extends: true,
            test: {
              name: 'integration',
              include: ['test/integration/**/*.test.ts'],
              globalSetup: ['test/helpers/global-setup.ts'],
            },
          },
        ],
  },
});
