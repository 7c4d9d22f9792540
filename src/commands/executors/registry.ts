import { EXEC_ACTIONS, type ExecAction } from '../command.js';
import { NotAvailableExecutor } from './not-available.js';
import type { Executor } from './types.js';

/** Which executor runs which action; an action nobody registered is not available. */
export class ExecutorRegistry {
  readonly #byAction = new Map<ExecAction, Executor>();
  readonly all: readonly Executor[];

  constructor(executors: readonly Executor[]) {
    for (const e of executors) {
      for (const a of e.actions) {
        if (this.#byAction.has(a)) throw new Error(`two executors for ${a}: ${e.name} and another`);
        this.#byAction.set(a, e);
      }
    }
    const missing = EXEC_ACTIONS.filter((a) => !this.#byAction.has(a));
    const placeholder = new NotAvailableExecutor(missing);
    for (const a of missing) this.#byAction.set(a, placeholder);
    this.all = [...executors];
  }

  for(action: ExecAction): Executor {
    return this.#byAction.get(action)!;
  }
}
