import { afterEach, expect } from 'vitest';
import type { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { StoreError, type EventStore } from '../../../src/store/event-store.js';

/** Bounds a contract test asks its store to be opened with. */
export interface HarnessOptions {
  maxBytes?: number;
  maxAge?: number;
  retention?: number;
  maintenanceEvery?: number;
}

/** How the contract suite drives one EventStore implementation (STYLE.md §6). */
export interface StoreHarness {
  /** The clock the store uses for default timestamps and its maintenance timer. */
  readonly clock: ManualClock;
  /** Opens the store (again, after a close: the same files). */
  open(): Promise<EventStore>;
  /** Leaves the files as a kill -9 would right now and opens the store on them. */
  crash?(): Promise<EventStore>;
  /**
   * Resolves once every maintenance run the clock has started so far has finished (with a
   * run of its own after them), so a test can see what maintenance did not do.
   */
  maintained(): Promise<void>;
  cleanup(): Promise<void>;
}

export type HarnessFactory = (opts: HarnessOptions) => Promise<StoreHarness>;

export const ev = (over: Partial<NewEvent> = {}): NewEvent => ({
  type: 'container_down',
  severity: 'warning',
  subject: 'local/mosquitto',
  data: { exit_code: 137 },
  ...over,
});

export const rejectsWith = async (p: Promise<unknown>, reason: StoreError['reason']) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).reason).toBe(reason);
  return err as StoreError;
};
/** One store per test: `open` makes it, `adopt` swaps in a reopened one, afterEach cleans up. */
export interface StoreSession {
  open(opts?: HarnessOptions): Promise<{ h: StoreHarness; s: EventStore }>;
  /** Closes the current store and opens the same files again. */
  reopen(): Promise<EventStore>;
  /** Makes `s` the store afterEach closes (one a test opened itself). */
  adopt(s: EventStore): EventStore;
}

export function storeSession(factory: HarnessFactory): StoreSession {
  let h: StoreHarness | undefined;
  let s: EventStore | undefined;
  afterEach(async () => {
    await s?.close().catch(() => undefined);
    await h?.cleanup();
    h = s = undefined;
  });
  return {
    async open(opts = {}) {
      h = await factory(opts);
      s = await h.open();
      return { h, s };
    },
    async reopen() {
      await s!.close();
      s = await h!.open();
      return s;
    },
    adopt: (store) => (s = store),
  };
}
