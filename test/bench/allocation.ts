import { GCProfiler, getHeapStatistics } from 'node:v8';

/**
 * Bytes a piece of work allocates on the V8 heap: the garbage it makes, not only what it
 * keeps. Heap usage only grows between collections, so the allocation over a stretch of
 * time is the growth from the start to the first collection, plus the growth between each
 * collection's end and the next one's start, plus the growth after the last collection.
 * V8's GC profiler reports the heap before and after every collection. Buffers outside the
 * V8 heap (socket and SQLite buffers) are not counted; objects allocated and freed inside
 * one young-generation cycle are.
 */
export interface Allocation {
  /** Bytes allocated on the V8 heap while the work ran. */
  bytes: number;
  /** Collections during the work. */
  gcs: number;
}

interface GcEntry {
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

/** Starts counting; `stop()` returns what was allocated since. Not re-entrant. */
export function startAllocationMeter(): { stop(): Allocation } {
  const profiler = new GCProfiler();
  profiler.start();
  const startUsed = getHeapStatistics().used_heap_size;
  return {
    stop(): Allocation {
      const endUsed = getHeapStatistics().used_heap_size;
      const entries = (profiler.stop()?.statistics ?? []) as unknown as GcEntry[];
      let bytes = 0;
      let last = startUsed;
      for (const e of entries) {
        bytes += Math.max(0, e.beforeGC.heapStatistics.usedHeapSize - last);
        last = e.afterGC.heapStatistics.usedHeapSize;
      }
      bytes += Math.max(0, endUsed - last);
      return { bytes, gcs: entries.length };
    },
  };
}

/** Runs `work` and returns its result with the bytes it allocated. */
export async function measureAllocation<T>(
  work: () => Promise<T> | T,
): Promise<{ result: T; allocation: Allocation }> {
  const meter = startAllocationMeter();
  const result = await work();
  return { result, allocation: meter.stop() };
}
