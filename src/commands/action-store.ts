import type { ActionRecord } from './actions.js';

/**
 * Where actions live between restarts (STYLE.md §6): an interface, a memory store for
 * tests and tools, and file-action-store.ts for the agent. Every implementation passes
 * test/unit/commands/action-store-contract.ts.
 */
export interface ActionStore {
  get(id: string): ActionRecord | undefined;
  /** Every action, oldest first. */
  list(): ActionRecord[];
  /** Inserts or replaces; durable once the promise resolves. */
  put(record: ActionRecord): Promise<void>;
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryActionStore implements ActionStore {
  readonly #records: Map<string, ActionRecord>;

  /** `backing` lets a test "reopen" the same store, as after a restart. */
  constructor(backing = new Map<string, ActionRecord>()) {
    this.#records = backing;
  }

  get(id: string): ActionRecord | undefined {
    return this.#records.get(id);
  }

  list(): ActionRecord[] {
    return [...this.#records.values()];
  }

  put(record: ActionRecord): Promise<void> {
    // A replaced record keeps its place: Map order is insertion order.
    this.#records.set(record.id, structuredClone(record));
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.#records.delete(id);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
