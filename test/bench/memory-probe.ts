import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

/**
 * Loaded into the agent with `NODE_OPTIONS=--import=<this file>` for ONE measurement run of
 * the scale bench (never a judged run: a heap snapshot costs memory and stalls the loop).
 * It takes `process.memoryUsage()` before the agent's modules load, and on SIGUSR2 writes
 * the agent's memoryUsage(), its V8 heap statistics and a heap snapshot into
 * $BENCH_MEMORY_PROBE_DIR, then a `done` file last, so the bench knows all are complete.
 */

/** What the probe writes to usage.json. */
export interface ProbeUsage {
  atPreload: NodeJS.MemoryUsage;
  atSignal: NodeJS.MemoryUsage;
  heap: { totalHeapSize: number; usedHeapSize: number; mallocedMemory: number };
  /** Per V8 space (old, code, large objects, new…): committed and used bytes. */
  spaces: { name: string; size: number; used: number }[];
}

export const PROBE_DIR_ENV = 'BENCH_MEMORY_PROBE_DIR';

const dir = process.env[PROBE_DIR_ENV];
if (dir !== undefined) {
  const atPreload = process.memoryUsage();
  process.on('SIGUSR2', () => {
    const atSignal = process.memoryUsage();
    const h = getHeapStatistics();
    const usage: ProbeUsage = {
      atPreload,
      atSignal,
      heap: {
        totalHeapSize: h.total_heap_size,
        usedHeapSize: h.used_heap_size,
        mallocedMemory: h.malloced_memory,
      },
      spaces: getHeapSpaceStatistics().map((sp) => ({
        name: sp.space_name,
        size: sp.space_size,
        used: sp.space_used_size,
      })),
    };
    writeFileSync(join(dir, 'usage.json'), JSON.stringify(usage));
    writeHeapSnapshot(join(dir, 'agent.heapsnapshot'));
    writeFileSync(join(dir, 'done'), '');
  });
}
