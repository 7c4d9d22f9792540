import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { StoredEvent } from '../../../src/core/events.js';
import { Journal, journalSink } from '../../../src/sinks/journal.js';
import type { SinkRunner } from '../../../src/sinks/sink-runner.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { skipWithout } from '../../helpers/capability.js';
import { cannotMount, mountTmpfs, remount } from '../../helpers/mounts.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { linesOf } from './helpers.js';

/**
 * A real full disk: the journal on a small tmpfs. Needs root; skipped, and says why, without,
 * except in CI, where it fails instead.
 */

const noMount = skipWithout('a tmpfs mount (journal on a full disk)', await cannotMount());

describe.skipIf(noMount)('Journal on a full disk', () => {
  let dir: string | undefined;
  let store: SqliteEventStore | undefined;
  let sink: SinkRunner | undefined;
  afterEach(async () => {
    await sink?.stop();
    await store?.close();
    if (dir) await removeTempDir(dir); // unmounts the tmpfs first
    dir = store = sink = undefined;
  });

  it('fails naming the file, keeps the cursor on disk, and catches up once space is freed', async () => {
    dir = await makeTempDir('journal-full');
    const journalDir = join(dir, 'journal');
    await mountTmpfs(journalDir, '64k');
    const T0 = Date.UTC(2026, 0, 1);
    store = SqliteEventStore.open({ dataDir: join(dir, 'data'), node: 'edge' });
    const events = await store.appendMany(
      Array.from({ length: 120 }, (_, i) => ({
        type: 'container_down',
        severity: 'warning' as const,
        subject: `local/app-${i}`,
        ts: T0 + i,
        data: { pad: 'x'.repeat(1_500) },
      })),
    );
    const { log, lines } = memoryLogger('debug');
    const clock = new ManualClock(T0);
    sink = journalSink({
      store,
      journal: new Journal({ dir: journalDir }),
      batch: 10,
      retry: { initialMs: 1_000, maxMs: 1_000 },
      clock,
      log,
    });
    await sink.start();
    const failed = (l: { msg: string }) => l.msg.startsWith('delivery failed');
    await eventually(() => expect(lines.some(failed)).toBe(true));

    const file = join(journalDir, '2026-01-01', 'edge', 'events.jsonl');
    expect(lines.find(failed)?.err).toBe(
      `journal ${file}: cannot append: ENOSPC: no space left on device, write ` +
        '(disk full: retried until space is freed)',
    );
    // Every event the cursor passed is a whole line in the file.
    await eventually(async () => expect(await store!.cursor('journal')).toBe(sink!.delivered));
    const cursor = await store.cursor('journal');
    expect(cursor).toBeGreaterThan(0);
    expect(cursor).toBeLessThan(events.length);
    const parsed = (ls: string[]) =>
      ls.flatMap((l) => {
        try {
          return [JSON.parse(l) as StoredEvent];
        } catch {
          return [];
        }
      });
    const onDisk = new Set(parsed(linesOf(file)).map((e) => e.id));
    expect(events.filter((e) => e.seq <= cursor && !onDisk.has(e.id))).toEqual([]);

    await remount(journalDir, 'size=2m');
    clock.advance(1_000);
    await eventually(async () => expect(await store!.cursor('journal')).toBe(events.length));
    const all = linesOf(file);
    const good = parsed(all);
    // At most the one line torn by ENOSPC does not parse; the next append starts a new line.
    expect(all.length - good.length).toBeLessThanOrEqual(1);
    expect(new Set(good.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
  });
});
