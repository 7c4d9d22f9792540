import { memoryLogger, type LogLine } from '../../helpers/memory-logger.js';
import { copyFileSync, existsSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import {
  EVENTS_DB_FILE,
  SqliteEventStore,
  type SqliteEventStoreOptions,
} from '../../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import type { HarnessOptions, StoreHarness } from './contract.js';

/** 2026-01-01T00:00:00Z: a fixed start so timestamps in failures are readable. */
export const T0 = Date.UTC(2026, 0, 1);

export interface SqliteHarness extends StoreHarness {
  /**
   * A kill -9; with `tearWal`, a power cut instead: the last bytes of the WAL never reached
   * the disk, so the newest commit, whose fsync had not returned, is torn.
   */
  crash(opts?: { tearWal?: number }): Promise<SqliteEventStore>;
  open(): Promise<SqliteEventStore>;
  /** The data dir now in use (a crash moves to a copy). */
  dir(): string;
  readonly lines: LogLine[];
  current(): SqliteEventStore | undefined;
}

const SUFFIXES = ['', '-wal', '-shm'];

/**
 * Copies the database files as they are on disk now: what a kill -9 leaves behind. The
 * store writes with synchronous=FULL, so every acknowledged commit is already in the files
 * (in the page cache, which is what a killed process leaves too).
 */
export function snapshotFiles(fromDir: string, toDir: string): void {
  for (const suffix of SUFFIXES) {
    const file = join(fromDir, EVENTS_DB_FILE + suffix);
    if (existsSync(file)) copyFileSync(file, join(toDir, EVENTS_DB_FILE + suffix));
  }
}

export async function sqliteHarness(
  opts: HarnessOptions & Partial<SqliteEventStoreOptions> = {},
): Promise<SqliteHarness> {
  const dirs = [await makeTempDir('event-store')];
  const clock = new ManualClock(T0);
  const { log, lines } = memoryLogger();
  const stores: SqliteEventStore[] = [];
  const dir = () => dirs[dirs.length - 1]!;
  const open = () => {
    const s = SqliteEventStore.open({ dataDir: dir(), node: 'test-node', clock, log, ...opts });
    stores.push(s);
    return Promise.resolve(s);
  };
  return {
    clock,
    lines,
    dir,
    open,
    current: () => stores.at(-1),
    // maintain() queues behind the run in progress (MaintenanceSchedule runs one at a time).
    async maintained() {
      await stores.at(-1)?.maintain();
    },
    async crash(crashOpts = {}) {
      const next = await makeTempDir('event-store');
      snapshotFiles(dir(), next);
      const wal = join(next, `${EVENTS_DB_FILE}-wal`);
      if (crashOpts.tearWal && existsSync(wal) && statSync(wal).size > crashOpts.tearWal) {
        truncateSync(wal, statSync(wal).size - crashOpts.tearWal);
      }
      dirs.push(next);
      // The abandoned store goes on in a directory nobody opens again, as a dead process would.
      await stores.at(-1)?.close();
      return open();
    },
    async cleanup() {
      for (const s of stores) await s.close().catch(() => undefined);
      for (const d of dirs) await removeTempDir(d);
    },
  };
}
