import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { toWireEvent, type NewEvent } from '../../../src/core/events.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * Issue 15: a publishing sink reads wire records (seq, id, payload) whose payload SQLite
 * writes around the stored data's JSON text, not parsed and stringified again. The bytes on the wire
 * must stay exactly `JSON.stringify(toWireEvent(e))`, whatever the data holds.
 */

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function openStore(node = 'site-a') {
  const dir = await makeTempDir('wire-records');
  const { log, lines } = memoryLogger();
  const store = SqliteEventStore.open({ dataDir: dir, node, clock: new ManualClock(1e12), log });
  cleanup.push(async () => {
    await store.close().catch(() => undefined);
    await removeTempDir(dir);
  });
  await store.registerSink('s', { startAt: 'oldest' });
  return { store, dir, lines };
}

/** Data that JSON round trips could reorder, re-escape or renumber if the path differed. */
const TRICKY: NewEvent[] = [
  { type: 'container_down', severity: 'error', subject: 'local/web', data: {} },
  {
    type: 'disk_pressure',
    severity: 'critical',
    subject: 'nas:/srv "quoted" \\ back\\slash',
    data: { b: 1, a: 2, 10: 'ten', 2: 'two', '-1': 'minus', '01': 'leading zero' },
  },
  {
    type: 'custom_event_type',
    severity: 'debug',
    subject: 'ünïcödé/ñ/日本/😀',
    data: {
      text: 'line\nbreak\ttab\u0000nul\u001f\u007f\u2028\u2029 "q" \\ /',
      lone: 'lone \ud800 surrogate \udfff',
      emoji: '😀',
      nums: [0, -0, 0.1, 1e21, 1e-7, -123.456, Number.MAX_SAFE_INTEGER, 5e-324],
      nested: { deep: { deeper: [null, true, false, { x: [] }] } },
      ['__proto__']: { polluted: true },
      empty: '',
    },
  },
  {
    type: 'host_unreachable',
    severity: 'info',
    // Every control character and the rest of ASCII: json_quote must escape as JSON.stringify.
    subject: Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join(''),
    data: { keys: Object.fromEntries([...'\u0000\b\f\u007f"\\'].map((c) => [c, c])) },
    ts: 0,
  },
  {
    type: 'watchdog_unhealthy',
    severity: 'warning',
    subject: '',
    data: { big: 'x'.repeat(10_000), ts: '2026-01-01T00:00:00.000Z' },
    ts: '2026-02-03T04:05:06.789Z',
  },
];

describe('wire records', () => {
  it('carry each event as JSON.stringify(toWireEvent(e)), byte for byte', async () => {
    const { store } = await openStore('node "odd" ñ');
    // __proto__ as an own key, as JSON.parse makes it (an object literal would set the prototype).
    const withProto = JSON.parse('{"__proto__":{"a":1},"k":"v"}') as Record<string, unknown>;
    await store.appendMany([
      ...TRICKY,
      { type: 'container_down', severity: 'info', subject: 'p', data: withProto },
    ]);
    const events = await store.readAfter('s', 100);
    const wire = await store.readWireAfter('s', 100);
    expect(events).toHaveLength(TRICKY.length + 1);
    expect(wire.map((r) => r.seq)).toEqual(events.map((e) => e.seq));
    expect(wire.map((r) => r.id)).toEqual(events.map((e) => e.id));
    for (const [i, e] of events.entries()) {
      expect(wire[i]!.payload).toBe(JSON.stringify(toWireEvent(e)));
      // And the payload parses back to the event without its seq.
      expect(JSON.parse(wire[i]!.payload)).toEqual(toWireEvent(e));
    }
  });

  it('matches JSON.stringify(toWireEvent(e)) for many generated events', async () => {
    const { store } = await openStore();
    const chars = ['a', 'é', '"', '\\', '\n', '\u0001', '😀', '\ud83d', '1', ' ', '/', '\u2028'];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const str = () => Array.from({ length: rnd(12) }, () => chars[rnd(chars.length)]).join('');
    const value = (depth: number): unknown => {
      switch (rnd(depth > 2 ? 4 : 6)) {
        case 0:
          return str();
        case 1:
          return (rnd(2000) - 1000) / (1 + rnd(7));
        case 2:
          return rnd(2) === 0;
        case 3:
          return null;
        case 4:
          return Array.from({ length: rnd(4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: rnd(5) }, () => [
              rnd(3) === 0 ? String(rnd(20)) : str(),
              value(depth + 1),
            ]),
          );
      }
    };
    const batch: NewEvent[] = Array.from({ length: 300 }, (_, i) => ({
      type: `type_${rnd(5)}`,
      severity: (['debug', 'info', 'warning', 'error', 'critical'] as const)[rnd(5)]!,
      subject: str(),
      data: { i, v: value(0), [str()]: value(0) },
    }));
    await store.appendMany(batch);
    const events = await store.readAfter('s', 1000);
    const wire = await store.readWireAfter('s', 1000);
    expect(wire.map((r) => r.payload)).toEqual(events.map((e) => JSON.stringify(toWireEvent(e))));
  });

  it('read after the cursor or `after`, up to the limit, as readAfter does', async () => {
    const { store } = await openStore();
    await store.appendMany(TRICKY);
    expect((await store.readWireAfter('s', 2)).map((r) => r.seq)).toEqual([1, 2]);
    expect((await store.readWireAfter('s', 10, 2)).map((r) => r.seq)).toEqual([3, 4, 5]);
    await store.ack('s', 3);
    expect((await store.readWireAfter('s', 10)).map((r) => r.seq)).toEqual([4, 5]);
    expect((await store.readWireAfter('s', 10, 5)).map((r) => r.seq)).toEqual([]);
    await expect(store.readWireAfter('nobody', 1)).rejects.toMatchObject({
      reason: 'unknown_sink',
    });
    await expect(store.readWireAfter('s', 0)).rejects.toThrow(/limit 0: expected a positive/);
  });

  it('skip a damaged row, naming its seq, and keep the rest', async () => {
    const { store, dir, lines } = await openStore();
    await store.appendMany(TRICKY);
    // Damage on disk, written beside the store as another process would.
    const db = new Database(join(dir, EVENTS_DB_FILE));
    db.prepare('UPDATE events SET data = ? WHERE seq = 2').run('[1, 2]');
    db.prepare('UPDATE events SET data = ? WHERE seq = 3').run('{"cut": "off"');
    db.prepare('UPDATE events SET sev = 9 WHERE seq = 4').run();
    db.prepare("UPDATE events SET id = 'short' WHERE seq = 5").run();
    db.close();
    const wire = await store.readWireAfter('s', 10);
    expect(wire.map((r) => r.seq)).toEqual([1]);
    const errors = lines.filter((l) => l.level === 'error').map((l) => l.err);
    expect(errors).toEqual([
      'event seq 2 is damaged: bad data',
      'event seq 3 is damaged: bad data',
      'event seq 4 is damaged: bad severity',
      'event seq 5 is damaged: bad id',
    ]);
    // The read side of the same rows names the same damage.
    expect((await store.readAfter('s', 10)).map((e) => e.seq)).toEqual([1]);
  });
});
