import { afterEach, describe, expect, it } from 'vitest';
import type { DiscoveryRegistry, RegistryEntry } from '../../../discovery/registry.js';

/** How the contract suite drives one registry implementation. */
export interface RegistryHarness {
  open(): Promise<DiscoveryRegistry>;
  /** Opens the same store again, as after a process restart. */
  reopen(): Promise<DiscoveryRegistry>;
  /** Leaves the store as a crash half-way through the next write would. */
  crashMidWrite?(): Promise<void>;
  /** Damages the persisted store. */
  corrupt?(): Promise<void>;
  /** Warnings the store logged so far. */
  warnings?(): string[];
  cleanup(): Promise<void>;
}

const A: RegistryEntry = { hash: 'a'.repeat(64), stateTopics: ['outpost/n/watchdog'] };
const B: RegistryEntry = {
  hash: 'b'.repeat(64),
  stateTopics: [],
  deviceTopic: 'homeassistant/device/outpost_n/agent/config',
};
const T1 = 'homeassistant/sensor/outpost_n/one/config';
const T2 = 'homeassistant/button/outpost_n/two/config';

/** The behaviour every DiscoveryRegistry must have (STYLE.md §6). */
/** `durable`: the implementation persists to files, so crash and corruption cases apply. */
export function registryContract(
  name: string,
  makeHarness: () => Promise<RegistryHarness>,
  caps: { durable: boolean } = { durable: false },
): void {
  describe(`DiscoveryRegistry contract: ${name}`, () => {
    let h: RegistryHarness | undefined;
    const harness = async () => (h = await makeHarness());
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });

    it('starts empty', async () => {
      const r = await (await harness()).open();
      expect(r.list()).toEqual([]);
      expect(r.get(T1)).toBeUndefined();
    });

    it('sets, gets, lists sorted and deletes', async () => {
      const r = await (await harness()).open();
      await r.set(T1, A);
      await r.set(T2, B);
      expect(r.get(T1)).toEqual(A);
      expect(r.list()).toEqual([
        [T2, B],
        [T1, A],
      ]);
      await r.delete(T2);
      expect(r.list()).toEqual([[T1, A]]);
      await r.delete('not/there');
      expect(r.list()).toHaveLength(1);
    });

    it('applies a batch of sets and deletes at once', async () => {
      const r = await (await harness()).open();
      await r.set(T1, A);
      await r.apply({ set: [[T2, B]], delete: [T1] });
      expect(r.list()).toEqual([[T2, B]]);
    });

    it('does not let callers mutate stored entries', async () => {
      const r = await (await harness()).open();
      const topics = ['x/y'];
      await r.set(T1, { hash: 'h', stateTopics: topics });
      topics.push('z');
      expect(r.get(T1)!.stateTopics).toEqual(['x/y']);
    });

    it('keeps what was written across a reopen', async () => {
      const hh = await harness();
      const r = await hh.open();
      await r.apply({
        set: [
          [T1, A],
          [T2, B],
        ],
      });
      await r.delete(T1);
      const again = await hh.reopen();
      expect(again.list()).toEqual([[T2, B]]);
    });

    it('keeps the last of many concurrent writes', async () => {
      const hh = await harness();
      const r = await hh.open();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => r.set(`t/${i}`, { hash: `${i}`, stateTopics: [] })),
      );
      expect((await hh.reopen()).list()).toHaveLength(20);
    });

    if (!caps.durable) return;

    it('survives a crash mid-write with the previous contents', async () => {
      const hh = await harness();
      if (!hh.crashMidWrite) throw new Error('a durable registry harness needs crashMidWrite');
      const r = await hh.open();
      await r.set(T1, A);
      await hh.crashMidWrite();
      const again = await hh.reopen();
      expect(again.list()).toEqual([[T1, A]]);
      await again.set(T2, B);
      expect((await hh.reopen()).list()).toEqual([
        [T2, B],
        [T1, A],
      ]);
    });

    it('reports a corrupted store and treats it as empty', async () => {
      const hh = await harness();
      if (!hh.corrupt) throw new Error('a durable registry harness needs corrupt');
      const r = await hh.open();
      await r.set(T1, A);
      await hh.corrupt();
      const again = await hh.reopen();
      expect(again.list()).toEqual([]);
      expect(hh.warnings?.().join('\n')).toMatch(/unreadable/);
      await again.set(T2, B);
      expect((await hh.reopen()).list()).toEqual([[T2, B]]);
    });
  });
}
