import {
  readdirSync,
  statSync,
  truncateSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import type { StoredEvent } from '../../../src/core/events.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { eventStoreContract, ev } from './contract.js';
import { snapshotFiles, sqliteHarness, type SqliteHarness } from './harness.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

eventStoreContract('sqlite', (opts) => sqliteHarness(opts));

/** Overwrites the last `n` bytes of a file with a fixed garbage pattern. */
function garbleTail(file: string, n: number): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(n, 0xa5), 0, n, size - n);
  } finally {
    closeSync(fd);
  }
}

describe('SqliteEventStore on disk', () => {
  let h: SqliteHarness | undefined;
  const extraDirs: string[] = [];
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    for (const d of extraDirs.splice(0)) await removeTempDir(d);
  });

  it('keeps the database in WAL mode with its schema version', async () => {
    h = await sqliteHarness();
    const s = await h.open();
    await s.append(ev());
    const db = new Database(join(h.dir(), EVENTS_DB_FILE), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: 1 }]);
      const indexes = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
        .all();
      expect(indexes).toEqual(
        expect.arrayContaining([{ name: 'events_sev_seq' }, { name: 'events_ts' }]),
      );
    } finally {
      db.close();
    }
  });

  for (const damage of ['truncated', 'garbled'] as const) {
    it(`opens after a ${damage} WAL tail: earlier commits intact, the torn one gone whole`, async () => {
      h = await sqliteHarness();
      const s = await h.open();
      const first = await s.appendMany(Array.from({ length: 20 }, (_, i) => ev({ data: { i } })));
      const torn = await s.appendMany(
        Array.from({ length: 5 }, (_, i) => ev({ severity: 'error', data: { i } })),
      );
      const dir = await makeTempDir('event-store-torn');
      extraDirs.push(dir);
      snapshotFiles(h.dir(), dir);
      const wal = join(dir, `${EVENTS_DB_FILE}-wal`);
      expect(statSync(wal).size).toBeGreaterThan(4096);
      // A power cut while the last commit frame was being written: its fsync never returned,
      // so those appends were never acknowledged.
      if (damage === 'truncated') truncateSync(wal, statSync(wal).size - 37);
      else garbleTail(wal, 64);
      const after = SqliteEventStore.open({ dataDir: dir, node: 'test-node', clock: h.clock });
      try {
        const left = await after.query({ limit: 1000 });
        expect(left).toEqual(first);
        expect(left.some((e) => torn.some((t) => t.id === e.id))).toBe(false);
        expect((await after.append(ev())).seq).toBe(first.length + 1);
        expect((await after.stats()).count).toBe(first.length + 1);
      } finally {
        await after.close();
      }
    });
  }

  it('moves a database that is not one aside and starts empty, saying so', async () => {
    h = await sqliteHarness();
    writeFileSync(
      join(h.dir(), EVENTS_DB_FILE),
      'this is not an sqlite database, just junk '.repeat(200),
    );
    const s = await h.open();
    const files = readdirSync(h.dir());
    const aside = files.find((f) => f.startsWith(`${EVENTS_DB_FILE}.corrupt-`));
    expect(aside).toMatch(/^events\.db\.corrupt-2026-01-01T00-00-00-000Z$/);
    expect(h.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: expect.stringContaining('corrupt') as string,
      }),
    );
    const events = await waitForEvents(s, 1);
    expect(events[0]).toMatchObject({ type: 'event_store_reset', severity: 'error' });
    expect(events[0]!.data.moved_to).toBe(join(h.dir(), aside!));
    expect((await s.append(ev())).seq).toBe(2);
  });

  it('moves a database with a garbled tail aside', async () => {
    h = await sqliteHarness();
    let s = await h.open();
    const before = await s.appendMany(
      Array.from({ length: 300 }, (_, i) => ev({ data: { i, pad: 'x'.repeat(100) } })),
    );
    await s.close();
    const file = join(h.dir(), EVENTS_DB_FILE);
    const size = statSync(file).size;
    garbleTail(file, 2048);
    s = await h.open();
    const aside = join(h.dir(), 'events.db.corrupt-2026-01-01T00-00-00-000Z');
    expect(statSync(aside).size).toBe(size);
    const events = await waitForEvents(s, 1);
    expect(events.map((e) => e.type)).toEqual(['event_store_reset']);
    expect(events.some((e) => before.some((b) => b.id === e.id))).toBe(false);
    const err = h.lines.find((l) => l.level === 'error');
    expect(err).toMatchObject({ path: file, movedTo: aside });
  });
});

/** The store's events once there are at least `n` (the reset event is appended after open). */
async function waitForEvents(s: { query(): Promise<StoredEvent[]> }, n: number) {
  return eventually(
    async () => {
      const events = await s.query();
      expect(events.length).toBeGreaterThanOrEqual(n);
      return events;
    },
    { timeout: 10_000 },
  );
}
