import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RetainedStore } from '../../../src/mqtt/retained-store.js';
import { skipWithout } from '../../helpers/capability.js';
import { cannotMount, fillDisk, makeTmpfsDir } from '../../helpers/mounts.js';
import { removeTempDir } from '../../helpers/tmp.js';

/**
 * The broker's retained store on a real full disk (a 1 MiB tmpfs): a refused write is held
 * in memory and served from there, then written once there is room. Needs root; skipped,
 * and says why, without, except in CI, where it fails instead.
 */

const noMount = skipWithout('a tmpfs mount (retained store on a full disk)', await cannotMount());

const text = (m: { topic: string; payload: Buffer | string }) => [m.topic, m.payload.toString()];

describe.skipIf(noMount)('RetainedStore on a full disk', () => {
  let dir: string | undefined;
  let store: RetainedStore | undefined;
  afterEach(async () => {
    store?.close();
    if (dir) await removeTempDir(dir); // unmounts the tmpfs first
    dir = store = undefined;
  });

  it('holds refused messages in memory, serves them in topic order, writes them when it can', async () => {
    dir = await makeTmpfsDir('retained-full', '1m');
    const path = join(dir, 'retained.db');
    store = RetainedStore.open(path);
    for (const t of ['a/1', 'a/3', 'a/5']) store.store({ topic: t, payload: `${t} v1` });
    store.commit(); // writes are committed a turn at a time; these before the disk fills
    const filler = fillDisk(dir);

    // Bigger than any free page the file still has: the write must reach the full disk.
    const pad = 'x'.repeat(64 * 1024);
    store.store({ topic: 'a/0', payload: `a/0 v2 ${pad}` });
    store.commit(); // the refusal comes with the commit
    expect(store.held).toBe(1);
    store.store({ topic: 'a/3', payload: 'a/3 v2' }); // held behind the first, replaces the row
    store.store({ topic: 'a/5', payload: '' }); // a clearing, held too
    store.store({ topic: 'a/4', payload: 'a/4 v2' });
    store.store({ topic: 'b/1', payload: 'b/1 v2' });
    expect(store.held).toBe(5);

    const seen = [...store.match(['a/#'])].map(text);
    expect(seen.map(([t]) => t)).toEqual(['a/0', 'a/1', 'a/3', 'a/4']);
    expect(seen.slice(1)).toEqual([
      ['a/1', 'a/1 v1'],
      ['a/3', 'a/3 v2'],
      ['a/4', 'a/4 v2'],
    ]);
    expect(store.reread('a/3').payload.toString()).toBe('a/3 v2');
    expect(store.reread('a/5').payload.length).toBe(0);
    // Still full: nothing is written, nothing is lost.
    expect(store.flush()).toBe(false);
    expect(store.held).toBe(5);

    rmSync(filler);
    expect(store.flush()).toBe(true);
    expect(store.held).toBe(0);
    store.close();
    store = RetainedStore.open(path);
    expect([...store.match(['#'])].map((m) => m.topic)).toEqual([
      'a/0',
      'a/1',
      'a/3',
      'a/4',
      'b/1',
    ]);
    expect([...store.match(['a/3', 'a/5'])].map(text)).toEqual([['a/3', 'a/3 v2']]);
  });
});
