import { vi } from 'vitest';

/**
 * `vi.waitFor` with a deadline a busy machine can meet: its default of one second is a
 * race, not a wait. Retries `check` every 50 ms until it stops throwing (or, for a
 * callback returning a value, returns one).
 */
export function eventually<T>(
  check: () => T | Promise<T>,
  opts: { timeout?: number; interval?: number } = {},
): Promise<T> {
  return vi.waitFor(check, { timeout: 30_000, interval: 50, ...opts });
}
