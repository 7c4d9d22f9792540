import { expect } from 'vitest';
import { OutpostError } from '../../src/core/errors.js';

/** The OutpostError `p` rejects with; fails the test when it resolves or throws anything else. */
export async function failure(p: Promise<unknown>): Promise<OutpostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OutpostError);
    return err as OutpostError;
  }
  throw new Error('expected a failure');
}
