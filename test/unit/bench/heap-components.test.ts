import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analyseHeapSnapshot } from '../../bench/heap-components.js';
import { withTempDir } from '../../helpers/tmp.js';

/**
 * The scale bench's memory-by-component figures (test/bench/heap-components.ts), on a real
 * heap snapshot written by a small node process whose heap is known: what only a component
 * holds is its; what something else also holds is not; components are attributed in order.
 */

const run = promisify(execFile);

// 4,000 distinct strings of 250 characters ≈ 1 MB held only by the tracker; a 2 MB string
// the tracker shares with a global; two sessions (with `broker`) and one look-alike without.
const PROGRAM = `
const { writeHeapSnapshot } = require('node:v8');
class ScaleTestTracker {
  constructor(shared) {
    this.shared = shared;
    this.views = new Map();
    for (let i = 0; i < 4000; i++) this.views.set(i, String(i).padStart(250, 'v'));
  }
}
class ScaleTestSession {
  constructor(broker) {
    if (broker) this.broker = broker;
    this.queue = Array.from({ length: 2000 }, (_, i) => ({ i }));
  }
}
const shared = 's'.repeat(2 * 1024 * 1024);
globalThis.keep = {
  shared,
  tracker: new ScaleTestTracker(shared),
  sessions: [new ScaleTestSession({}), new ScaleTestSession({})],
  lookalike: new ScaleTestSession(undefined),
};
writeHeapSnapshot(process.argv[1]);
`;

describe('analyseHeapSnapshot', () => {
  it('gives each component what only it retains, leaves first', async () => {
    await withTempDir('heap-components', async (dir) => {
      const file = join(dir, 'test.heapsnapshot');
      await run(process.execPath, ['-e', PROGRAM, file]);
      const heap = analyseHeapSnapshot(file, [
        { label: 'sessions', classes: ['ScaleTestSession'], withProperty: 'broker' },
        { label: 'tracker', classes: ['ScaleTestTracker'] },
        { label: 'tracker again', classes: ['ScaleTestTracker'] },
      ]);
      const [sessions, tracker, again] = heap.components;
      expect(sessions).toMatchObject({ label: 'sessions', objects: 2 });
      // Two queues of 2,000 small objects each, not the look-alike's third.
      expect(sessions!.bytes).toBeGreaterThan(2 * 2000 * 16);
      expect(sessions!.bytes).toBeLessThan(3 * 2000 * 40);
      expect(tracker).toMatchObject({ label: 'tracker', objects: 1 });
      expect(tracker!.bytes).toBeGreaterThan(4000 * 250);
      // The shared 2 MiB string stays reachable without the tracker: not the tracker's.
      expect(tracker!.bytes).toBeLessThan(2 * 1024 * 1024);
      // Attributed once: a later component gets nothing an earlier one took.
      expect(again).toMatchObject({ objects: 1, bytes: 0 });
      expect(heap.restBytes).toBeGreaterThan(2 * 1024 * 1024);
      expect(heap.totalBytes).toBeGreaterThan(sessions!.bytes + tracker!.bytes + heap.restBytes);
      expect(heap.byConstructor.find((c) => c.name === 'ScaleTestSession')).toMatchObject({
        count: 3,
      });
    });
    // A snapshot of a whole node process is written and parsed: slow on a loaded machine.
  }, 120_000);
});
