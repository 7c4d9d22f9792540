import { defineConfig } from 'vitest/config';

/**
 * The one vitest config, two projects: `unit` (pure logic, no servers) and `integration`
 * (real servers on loopback). Only the integration project has the global setup that
 * installs the servers and reaps leftovers; vitest runs a project's global setup only when
 * that project has files to run, so `npm test -- test/unit` starts nothing.
 */

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real servers; two workers match this 2-core machine.
    maxWorkers: 2,
    projects: [
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
