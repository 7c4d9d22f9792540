import { defineConfig } from 'vitest/config';

/**
 * `npm run screenshots`: the README's pictures, taken in a real headless Chromium from an
 * agent watching real containers. Not part of `npm test`: they write files under docs/img.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/screenshots/*.shot.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
