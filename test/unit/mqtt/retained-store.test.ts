import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RetainedMessage,
  RetainedStore,
  scanPrefixes,
} from '../../../src/mqtt/retained-store.js';

const opened: RetainedStore[] = [];

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function store(): RetainedStore {
  const s = RetainedStore.open(':memory:');
  opened.push(s);
  return s;
}

function fill(s: RetainedStore, n: number, value: string): string[] {
  const topics = Array.from({ length: n }, (_, i) => `s/${String(i).padStart(4, '0')}`);
  for (const t of topics) s.store({ topic: t, payload: value, qos: 1 });
  return topics;
}

describe('RetainedStore.match', () => {
  it('gives each matching message once, in topic order, with its qos', () => {
    const s = store();
    s.store({ topic: 'a/x', payload: '1', qos: 1 });
    s.store({ topic: 'a/y', payload: '2' });
    s.store({ topic: 'b/x', payload: '3', qos: 1 });
    const got = [...s.match(['a/#', '+/x'])].map((m) => [m.topic, m.qos, m.payload.toString()]);
    expect(got).toEqual([
      ['a/x', 1, '1'],
      ['a/y', 0, '2'],
      ['b/x', 1, '3'],
    ]);
  });

  // aedes takes the messages later than the store reads them (see LatestRetained).
  it('hands out the value stored when a message is taken, not when its page was read', () => {
    const s = store();
    const topics = fill(s, 600, 'old');
    const messages = s.match(['#']);
    const first = messages.next().value as RetainedMessage; // reads the first page
    s.store({ topic: topics[1]!, payload: 'new', qos: 0 });
    s.store({ topic: topics[2]!, payload: '' });
    const rest = [...messages];
    expect(first.payload.toString()).toBe('old');
    expect([rest[0]!.payload.toString(), rest[0]!.qos]).toEqual(['new', 0]);
    expect(rest[1]!.payload.length).toBe(0); // cleared meanwhile: sent empty, as live
    expect(rest.slice(2).every((m) => m.payload.toString() === 'old')).toBe(true);
    expect(rest).toHaveLength(599);
  });
});

describe('RetainedStore: reads only under the filters', () => {
  it('finds every match across prefixes, exact topics and wildcards, once each', () => {
    const s = store();
    const topics = ['a/1', 'a/2', 'ab', 'b/x/1', 'b/y/1', 'c', 'ha/sensor/1/config', 'z'];
    for (const t of topics) s.store({ topic: t, payload: t });
    const got = (filters: string[]) => [...s.match(filters)].map((m) => m.topic);
    expect(got(['a/#'])).toEqual(['a/1', 'a/2']);
    expect(got(['b/+/1', 'a/2', 'c'])).toEqual(['a/2', 'b/x/1', 'b/y/1', 'c']);
    expect(got(['#'])).toEqual(topics);
    expect(got(['a/#', '#', 'z'])).toEqual(topics);
    expect(got(['ha/+/+/config', 'nothing/#'])).toEqual(['ha/sensor/1/config']);
  });

  it('pages through a run of topics longer than one page', () => {
    const s = store();
    const topics = fill(s, 300, 'v');
    s.store({ topic: 'r/1', payload: 'other' });
    expect([...s.match(['s/#'])].map((m) => m.topic)).toEqual(topics);
  });

  it('merges the prefixes of overlapping filters', () => {
    expect(scanPrefixes(['a/b/#', 'a/#', 'c/+/d', 'a/b'])).toEqual(['a/', 'c/']);
    expect(scanPrefixes(['x', '#'])).toEqual(['']);
  });
});

describe('RetainedStore: the file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('moves a file of the first layout (WITHOUT ROWID) into rows and gives its space back', () => {
    dir = mkdtempSync(join(tmpdir(), 'retained-store-'));
    const path = join(dir, 'broker-retained.db');
    const old = new Database(path);
    old.exec(
      'CREATE TABLE retained (topic TEXT PRIMARY KEY, qos INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID',
    );
    const put = old.prepare('INSERT INTO retained (topic, qos, payload) VALUES (?, ?, ?)');
    const payload = Buffer.alloc(1000, 'c');
    old.transaction(() => {
      for (let i = 0; i < 2000; i++) put.run(`homeassistant/sensor/c${i}/config`, 1, payload);
      put.run('outpost/edge/availability', 0, Buffer.from('online'));
    })();
    old.pragma('user_version = 1');
    old.close();
    const before = statSync(path).size;

    const s = RetainedStore.open(path);
    opened.push(s);
    expect(s.upgraded).toBe(2001);
    expect(s.levelNoted).toBe(false); // user_version 1: only the retained messages were moved
    const all = [...s.match(['#'])];
    expect(all).toHaveLength(2001);
    expect(all[0]).toMatchObject({ topic: 'homeassistant/sensor/c0/config', qos: 1 });
    expect(Buffer.from(all[0]!.payload).equals(payload)).toBe(true);
    expect(all.at(-1)!.payload.toString()).toBe('online');
    s.store({ topic: 'outpost/edge/availability', payload: 'offline' });
    expect(s.reread('outpost/edge/availability').payload.toString()).toBe('offline');
    s.close();
    opened.pop();

    const db = new Database(path, { readonly: true });
    const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'retained'").pluck().get();
    db.close();
    expect(String(sql)).not.toMatch(/WITHOUT ROWID/i);
    // 2 MiB of payload: the rows fit their pages, no overflow chains.
    expect(statSync(path).size).toBeLessThan(before * 0.75);
    const again = RetainedStore.open(path);
    opened.push(again);
    expect(again.upgraded).toBe(0);
    expect([...again.match(['outpost/#'])].map((m) => m.payload.toString())).toEqual(['offline']);
  });
});

describe('RetainedStore: payloads as text or bytes', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const payloads: Array<[string, Buffer]> = [
    ['json', Buffer.from('{"name":"Küche ☕ 🐳","state":"running"}')],
    ['nul', Buffer.from('a\u0000b')],
    ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3])],
    ['lone-surrogate', Buffer.from([0xed, 0xa0, 0x80])], // not UTF-8: a surrogate's encoding
  ];

  function types(path: string): Record<string, string> {
    const db = new Database(path, { readonly: true });
    const rows = db
      .prepare<[], { topic: string; t: string }>('SELECT topic, typeof(payload) AS t FROM retained')
      .all();
    db.close();
    return Object.fromEntries(rows.map((r) => [r.topic, r.t]));
  }

  function readBack(path: string): Record<string, Buffer> {
    const s = RetainedStore.open(path);
    opened.push(s);
    return Object.fromEntries([...s.match(['#'])].map((m) => [m.topic, Buffer.from(m.payload)]));
  }

  it('stores UTF-8 as TEXT and anything else as a BLOB, and reads back the same bytes', () => {
    dir = mkdtempSync(join(tmpdir(), 'retained-text-'));
    const path = join(dir, 'broker-retained.db');
    const s = RetainedStore.open(path);
    for (const [topic, payload] of payloads) s.store({ topic, payload, qos: 1 });
    s.close();
    expect(types(path)).toEqual({
      json: 'text',
      nul: 'text',
      binary: 'blob',
      'lone-surrogate': 'blob',
    });
    const got = readBack(path);
    for (const [topic, payload] of payloads) expect(got[topic]!.equals(payload), topic).toBe(true);
  });

  it("rewrites an older file's UTF-8 BLOBs as TEXT when it opens, bytes unchanged", () => {
    dir = mkdtempSync(join(tmpdir(), 'retained-text-'));
    const path = join(dir, 'broker-retained.db');
    // The version before: today's layout, every payload a BLOB, no marks.
    const old = new Database(path);
    old.exec(
      'CREATE TABLE retained (id INTEGER PRIMARY KEY, topic TEXT NOT NULL UNIQUE, ' +
        'qos INTEGER NOT NULL, payload BLOB NOT NULL)',
    );
    const put = old.prepare('INSERT INTO retained (topic, qos, payload) VALUES (?, ?, ?)');
    for (const [topic, payload] of payloads) put.run(topic, 0, payload); // every one a BLOB
    old.close();
    expect(Object.values(types(path))).toEqual(['blob', 'blob', 'blob', 'blob']);

    const got = readBack(path);
    expect(types(path)).toEqual({
      json: 'text',
      nul: 'text',
      binary: 'blob',
      'lone-surrogate': 'blob',
    });
    for (const [topic, payload] of payloads) expect(got[topic]!.equals(payload), topic).toBe(true);
  });
});

describe('RetainedStore: writes committed a turn at a time', () => {
  function onDisk() {
    const dir = mkdtempSync(join(tmpdir(), 'retained-batch-'));
    const s = RetainedStore.open(join(dir, 'r.db'));
    const other = new Database(join(dir, 'r.db'), { readonly: true });
    const rows = () => other.prepare('SELECT count(*) AS n FROM retained').get() as { n: number };
    return {
      s,
      rows: () => rows().n,
      done: () => {
        s.close();
        other.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('commits a turn’s messages together, and says so only then', async () => {
    const d = onDisk();
    try {
      for (let i = 0; i < 10; i++) d.s.store({ topic: `t/${i}`, payload: `v${i}`, qos: 1 });
      // Served from memory before the commit: a subscriber of this turn gets them.
      expect([...d.s.match(['t/#'])].map((m) => m.payload.toString())).toHaveLength(10);
      let durable = false;
      d.s.durable(() => (durable = true));
      expect(durable).toBe(false);
      expect(d.rows()).toBe(0); // another connection sees only what was committed
      await new Promise((r) => setImmediate(r));
      expect(durable).toBe(true);
      expect(d.rows()).toBe(10);
      let again = false;
      d.s.durable(() => (again = true)); // nothing pending: at once
      expect(again).toBe(true);
    } finally {
      d.done();
    }
  });

  it('commits a full batch at once, without waiting for the turn to end', () => {
    const d = onDisk();
    try {
      for (let i = 0; i < 600; i++) d.s.store({ topic: `t/${i}`, payload: 'v', qos: 0 });
      expect(d.rows()).toBeGreaterThanOrEqual(512);
      d.s.commit();
      expect(d.rows()).toBe(600);
    } finally {
      d.done();
    }
  });

  it('keeps the last message of a topic stored twice in one turn, and a clearing', () => {
    const s = store();
    s.store({ topic: 'a', payload: 'old', qos: 1 });
    s.store({ topic: 'b', payload: 'kept', qos: 1 });
    s.commit();
    s.store({ topic: 'a', payload: 'mid', qos: 1 });
    s.store({ topic: 'a', payload: 'new', qos: 0 });
    s.store({ topic: 'b', payload: '' });
    const now = [...s.match(['#'])].map((m) => [m.topic, m.payload.toString(), m.qos]);
    expect(now).toEqual([['a', 'new', 0]]);
    s.commit();
    expect([...s.match(['#'])].map((m) => [m.topic, m.payload.toString(), m.qos])).toEqual([
      ['a', 'new', 0],
    ]);
  });
});
