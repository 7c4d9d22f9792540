import { z } from 'zod';
import type { StateFile } from '../core/state-file.js';
import type { SavedFlaps } from './flap-detector.js';
import type { SavedBudget } from './restart-budget.js';

/**
 * What the policy remembers across restarts of the agent (issue #14): restart budgets
 * (attempts, backoff, grace) and flap state, in `<data_dir>/remediation-state.json`. A
 * restarted agent neither gets a fresh budget for a container it has been restarting nor
 * forgets that one is flapping.
 */

export const POLICY_STATE_FILE = 'remediation-state.json';

const budget = z.strictObject({
  target: z.string().min(1),
  attempts: z.array(z.number()),
  backoff: z.number().int().nonnegative(),
  nextAt: z.number(),
  lastRestartAt: z.number().optional(),
  healthySince: z.number().optional(),
}) satisfies z.ZodType<SavedBudget>;

const flaps = z.strictObject({
  target: z.string().min(1),
  up: z.boolean(),
  changes: z.array(z.number()),
  flapping: z.boolean(),
  lastChange: z.number(),
}) satisfies z.ZodType<SavedFlaps>;

export const policyStateSchema = z.strictObject({
  version: z.literal(1),
  budgets: z.array(budget),
  flaps: z.array(flaps),
});
export type SavedPolicyState = z.output<typeof policyStateSchema>;

/**
 * Saves the policy's state after changes: once per tick however many changed together
 * (a container's view updates its budget and its flap count in one go).
 */
export class PolicyMemory {
  readonly #file: StateFile<SavedPolicyState>;
  readonly #snapshot: () => Omit<SavedPolicyState, 'version'>;
  #queued = false;

  constructor(
    file: StateFile<SavedPolicyState>,
    snapshot: () => Omit<SavedPolicyState, 'version'>,
  ) {
    this.#file = file;
    this.#snapshot = snapshot;
  }

  /** What the earlier run saved, if anything. */
  load(): SavedPolicyState | undefined {
    return this.#file.load();
  }

  /** Something changed: saved at the end of this tick. */
  readonly changed = (): void => {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#file.save({ version: 1, ...this.#snapshot() });
    });
  };
}
