import type { Clock } from '../core/clock.js';
import { OutpostError } from '../core/errors.js';

/**
 * Runs `fn` with an AbortSignal that fires after `ms` on `clock`, and rejects with a
 * retryable TIMEOUT at that moment even if `fn` ignores the signal: an engine that hangs
 * must cost the agent one timeout, not a stuck poll.
 */
export function withDeadline<T>(
  clock: Clock,
  ms: number,
  what: string,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const err = new OutpostError('TIMEOUT', `${what}: no answer within ${ms} ms`, {
        retryable: true,
      });
      controller.abort(err);
      reject(err);
    }, ms);
    fn(controller.signal).then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        if (controller.signal.aborted) reject(controller.signal.reason as Error);
        else reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
