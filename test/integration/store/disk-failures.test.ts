import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/event-store.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { skipWithout } from '../../helpers/capability.js';
import { cannotMount, makeTmpfsDir, remount, type TmpfsSize } from '../../helpers/mounts.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { ev } from './contract.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { snapshotFiles } from './harness.js';

/**
 * A full disk and a read-only file system, for real: a 1 MiB tmpfs, and an ext4 image
 * mounted with errors=remount-ro whose error is triggered through sysfs (what the kernel
 * does to a failing disk while the agent runs). Needs root; skipped, and says why, without,
 * except in CI, where it fails instead.
 */

const run = promisify(execFile);

const noMount = skipWithout('mounting file systems (store on a failing disk)', await cannotMount());

const rejection = async (p: Promise<unknown>): Promise<StoreError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
};

describe.skipIf(noMount)('SqliteEventStore on a failing disk', () => {
  const dirs: string[] = [];
  const stores: SqliteEventStore[] = [];
  const mountTmpfs = async (size: TmpfsSize) => {
    const dir = await makeTmpfsDir('event-store-fs', size);
    dirs.push(dir);
    return dir;
  };
  const open = (dataDir: string) => {
    const { log, lines } = memoryLogger();
    const store = SqliteEventStore.open({ dataDir, node: 'n', log });
    stores.push(store);
    return { store, lines };
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    // removeTempDir unmounts whatever is mounted below the dir first.
    for (const d of dirs.splice(0)) await removeTempDir(d);
  });

  it('refuses appends on a full disk with disk_full, keeps serving reads, recovers', async () => {
    const dir = await mountTmpfs('2m');
    // Ballast to delete later: how an operator frees space.
    writeFileSync(join(dir, 'ballast'), Buffer.alloc(256 * 1024));
    const { store, lines } = open(join(dir, 'data'));
    const accepted = [];
    let err: StoreError | undefined;
    for (let i = 0; i < 2_000 && !err; i++) {
      const batch = Array.from({ length: 10 }, (_, j) =>
        ev({ data: { i, j, pad: 'x'.repeat(900) } }),
      );
      try {
        accepted.push(...(await store.appendMany(batch)));
      } catch (e) {
        expect(e).toBeInstanceOf(StoreError);
        err = e as StoreError;
      }
    }
    expect(err?.reason).toBe('disk_full');
    expect(err?.retryable).toBe(true);
    expect(err?.message).toContain(join(dir, 'data', 'events.db'));
    expect(err?.message).toMatch(/SQLITE_FULL|no space left/);
    expect(accepted.length).toBeGreaterThan(100);
    const stats = await store.stats();
    expect(stats).toMatchObject({ writable: false, count: accepted.length });
    expect(stats.lastError).toContain('disk');
    expect(await store.query({ limit: 10_000 })).toEqual(accepted);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'event store cannot write',
    ]);

    rmSync(join(dir, 'ballast'));
    const more = await store.append(ev({ severity: 'critical' }));
    expect(more.seq).toBe(accepted.length + 1);
    expect((await store.stats()).writable).toBe(true);
    await store.close();
    const again = open(join(dir, 'data')).store;
    expect(await again.query({ limit: 10_000 })).toEqual([...accepted, more]);
  });

  it('refuses appends with read_only when the file system turns read-only, and keeps reading', async () => {
    const dir = await makeTempDir('event-store-ext4');
    dirs.push(dir);
    const image = join(dir, 'disk.img');
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    await run('truncate', ['-s', '16M', image]);
    await run('mkfs.ext4', ['-q', '-F', image]);
    await run('mount', ['-o', 'loop,errors=remount-ro', image, mnt]);
    const { stdout } = await run('findmnt', ['-n', '-o', 'SOURCE', mnt]);
    const trigger = `/sys/fs/ext4/${basename(stdout.trim())}/trigger_fs_error`;
    expect(existsSync(trigger), `${trigger} (kernel without ext4 error injection)`).toBe(true);

    const { store } = open(mnt);
    const before = await store.appendMany([ev(), ev({ severity: 'error' })]);
    writeFileSync(trigger, 'outpost test: simulated disk error');

    const err = await rejection(store.append(ev()));
    expect(err.reason).toBe('read_only');
    expect(err.message).toContain(join(mnt, 'events.db'));
    expect(err.message).toContain('read-only file system');
    expect(await store.query()).toEqual(before);
    expect((await store.stats()).writable).toBe(false);
    await store.close();
  });

  it('opens read-only from a read-only mount that still has its WAL, serving reads', async () => {
    const src = await makeTempDir('event-store-src');
    dirs.push(src);
    const { store: writer } = open(src);
    const stored = await writer.appendMany([ev(), ev()]);
    const ro = await mountTmpfs('4m');
    // What a crash leaves (WAL and shm beside the database), then the disk comes back read-only.
    snapshotFiles(src, ro);
    await remount(ro, 'ro');

    const { store, lines } = open(ro);
    expect(await store.query()).toEqual(stored);
    const err = await rejection(store.append(ev()));
    expect(err.reason).toBe('read_only');
    expect((await store.stats()).writable).toBe(false);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'event store opened read-only' }));
  });

  it('says which path and why when a read-only mount cannot be opened at all', async () => {
    const ro = await mountTmpfs('4m');
    await remount(ro, 'ro');
    const err = await rejection(
      Promise.resolve().then(() => SqliteEventStore.open({ dataDir: ro, node: 'n' })),
    );
    expect(err.reason).toBe('read_only');
    expect(err.message).toContain(join(ro, 'events.db'));
    expect(err.message).toContain('read-only file system');
  });
});
