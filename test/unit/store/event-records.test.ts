import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * Issue 19 point 4: the InfluxDB sink reads flat records (ts in ms, data as its stored
 * JSON text) instead of whole events; they must say what readAfter's events say.
 */

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function openStore() {
  const dir = await makeTempDir('event-records');
  const { log, lines } = memoryLogger();
  const store = SqliteEventStore.open({
    dataDir: dir,
    node: 'site-a',
    clock: new ManualClock(1e12),
    log,
  });
  cleanup.push(async () => {
    await store.close().catch(() => undefined);
    await removeTempDir(dir);
  });
  await store.registerSink('s', { startAt: 'oldest' });
  return { store, dir, lines };
}

const EVENTS: NewEvent[] = [
  { type: 'container_down', severity: 'error', subject: 'local/web', ts: 1, data: {} },
  {
    type: 'disk_pressure',
    severity: 'critical',
    subject: 'nas:/srv "quoted" \\ ü 😀',
    ts: Date.UTC(2026, 11, 7, 3, 30, 0, 123),
    data: { b: 1, a: [2, { c: null }], text: 'line\nbreak "q"' },
  },
  { type: 'sample', severity: 'debug', subject: 'states', data: { points: [] } },
];

describe('readRecordsAfter', () => {
  it('gives what readAfter gives, ts in ms and data as JSON text', async () => {
    const { store } = await openStore();
    await store.appendMany(EVENTS);
    const events = await store.readAfter('s', 10);
    const records = await store.readRecordsAfter('s', 10);
    expect(
      records.map((r) => ({
        ...r,
        ts: new Date(r.ts).toISOString(),
        data: JSON.parse(r.data) as unknown,
      })),
    ).toEqual(events);
    expect(records.map((r) => r.ts)).toEqual([1, Date.UTC(2026, 11, 7, 3, 30, 0, 123), 1e12]);
  });

  it('reads after the cursor or `after`, up to the limit', async () => {
    const { store } = await openStore();
    await store.appendMany(EVENTS);
    expect((await store.readRecordsAfter('s', 2)).map((r) => r.seq)).toEqual([1, 2]);
    expect((await store.readRecordsAfter('s', 10, 1)).map((r) => r.seq)).toEqual([2, 3]);
    await store.ack('s', 2);
    expect((await store.readRecordsAfter('s', 10)).map((r) => r.seq)).toEqual([3]);
    await expect(store.readRecordsAfter('nobody', 1)).rejects.toMatchObject({
      reason: 'unknown_sink',
    });
    await expect(store.readRecordsAfter('s', 0)).rejects.toThrow(/limit 0: expected a positive/);
  });

  it('skips a damaged row, naming its seq', async () => {
    const { store, dir, lines } = await openStore();
    await store.appendMany([...EVENTS, ...EVENTS]);
    const db = new Database(join(dir, EVENTS_DB_FILE));
    db.prepare('UPDATE events SET data = ? WHERE seq = 2').run('[1, 2]');
    db.prepare('UPDATE events SET sev = 9 WHERE seq = 4').run();
    db.prepare("UPDATE events SET id = 'short' WHERE seq = 5").run();
    db.close();
    expect((await store.readRecordsAfter('s', 10)).map((r) => r.seq)).toEqual([1, 3, 6]);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.err)).toEqual([
      'event seq 2 is damaged: bad data',
      'event seq 4 is damaged: bad severity',
      'event seq 5 is damaged: bad id',
    ]);
  });
});
