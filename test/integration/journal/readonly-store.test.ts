import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/event-store.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/** SqliteEventStore.open({ readonly: true }): what `outpost events` opens beside the agent. */
describe('SqliteEventStore opened read-only', () => {
  let dir: string;
  const stores: SqliteEventStore[] = [];
  const open = (readonly: boolean) => {
    const s = SqliteEventStore.open({ dataDir: dir, node: 'edge', readonly });
    stores.push(s);
    return s;
  };
  beforeEach(async () => {
    dir = await makeTempDir('store-readonly');
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await removeTempDir(dir);
  });

  const ev = { type: 'container_down', severity: 'warning', subject: 'local/a' } as const;

  it('reads what a writer beside it commits, and refuses appends and acks', async () => {
    const writer = open(false);
    const a = await writer.append(ev);
    const reader = open(true);
    expect(await reader.query()).toEqual([a]);
    const b = await writer.append(ev);
    expect(await reader.query()).toEqual([a, b]);

    const refused = await reader.append(ev).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ reason: 'read_only' });
    // A sink registered by a reader is not written down: the writer sees no cursor.
    expect(await reader.registerSink('peek')).toBe(0);
    await expect(reader.ack('peek', a.seq)).rejects.toMatchObject({ reason: 'read_only' });
    expect(await writer.sinks()).toEqual([]);
    expect((await reader.stats()).writable).toBe(false);
  });

  it('neither creates a missing database nor moves a damaged one aside', () => {
    expect(() => open(true)).toThrow(StoreError);
    expect(existsSync(join(dir, EVENTS_DB_FILE))).toBe(false);

    writeFileSync(join(dir, EVENTS_DB_FILE), 'not a database, but the agent decides that');
    expect(() => open(true)).toThrow(StoreError);
    expect(existsSync(join(dir, EVENTS_DB_FILE))).toBe(true);
  });
});
