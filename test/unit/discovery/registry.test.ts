import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MemoryDiscoveryRegistry,
  SqliteDiscoveryRegistry,
  UNKNOWN_DEVICE,
  type RegistryEntry,
} from '../../../discovery/registry.js';
import { registryFileText } from '../../../discovery/registry-json.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { registryContract } from './registry-contract.js';

registryContract('memory', () => {
  const backing = new Map<string, RegistryEntry>();
  return Promise.resolve({
    open: () => Promise.resolve(new MemoryDiscoveryRegistry(backing)),
    reopen: () => Promise.resolve(new MemoryDiscoveryRegistry(backing)),
    cleanup: () => Promise.resolve(),
  });
});

const REPO = new URL('../../..', import.meta.url).pathname;

/** A process that writes rows in a transaction and is killed before it commits. */
function crashInTransaction(path: string): void {
  const script = `
    import Database from 'better-sqlite3';
    const db = new Database(${JSON.stringify(path)});
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN IMMEDIATE');
    const put = db.prepare("INSERT INTO published (topic, device, hash, state_topics) VALUES (?, '', 'x', '[]')");
    for (let i = 0; i < 1000; i++) put.run('crash/' + i);
    process.kill(process.pid, 'SIGKILL');
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO });
  expect(run.signal).toBe('SIGKILL');
}

registryContract(
  'sqlite',
  async () => {
    const dir = await makeTempDir('discovery-registry');
    const path = join(dir, 'data', 'discovery.db');
    const warnings: string[] = [];
    const log = { warn: (_obj: object, msg: string) => void warnings.push(msg) };
    const opened: SqliteDiscoveryRegistry[] = [];
    const open = async () => {
      const r = await SqliteDiscoveryRegistry.open(path, { log });
      opened.push(r);
      return r;
    };
    const closeAll = () => opened.splice(0).forEach((r) => r.close());
    return {
      open,
      reopen: open,
      crashMidWrite: () => Promise.resolve(crashInTransaction(path)),
      corrupt: async () => {
        closeAll();
        await rm(`${path}-wal`, { force: true });
        await rm(`${path}-shm`, { force: true });
        await writeFile(path, 'this is not a database '.repeat(100));
      },
      warnings: () => warnings,
      cleanup: async () => {
        closeAll();
        await removeTempDir(dir);
      },
    };
  },
  { durable: true },
);

const NAS = 'outpost_n_nas';
const topic = (k: string) => `homeassistant/sensor/outpost_n/${k}/config`;
const entry = (hash: string, deviceId?: string): RegistryEntry => ({
  hash,
  stateTopics: ['outpost/n/hosts/nas/containers/radarr'],
  ...(deviceId === undefined ? {} : { deviceId, deviceTopic: `homeassistant/device/${deviceId}` }),
  observed: true,
});

describe('SqliteDiscoveryRegistry', () => {
  async function withRegistry(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await makeTempDir('discovery-registry');
    try {
      await fn(dir);
    } finally {
      await removeTempDir(dir);
    }
  }

  it('reads and writes one device at a time', () =>
    withRegistry(async (dir) => {
      const r = await SqliteDiscoveryRegistry.open(join(dir, 'discovery.db'));
      await r.apply({
        set: [
          [topic('b'), entry('2', NAS)],
          [topic('a'), entry('1', NAS)],
          [topic('agent'), entry('3', 'outpost_n')],
          [topic('old'), entry('4')],
        ],
      });
      expect(r.deviceIds()).toEqual([UNKNOWN_DEVICE, 'outpost_n', NAS]);
      expect(r.device(NAS)).toEqual([
        [topic('a'), entry('1', NAS)],
        [topic('b'), entry('2', NAS)],
      ]);
      expect(r.device(UNKNOWN_DEVICE)).toEqual([[topic('old'), entry('4')]]);
      // Entries of one device share one copy of a state topic list.
      const [[, a], [, b]] = r.device(NAS) as [[string, RegistryEntry], [string, RegistryEntry]];
      expect(a.stateTopics).toBe(b.stateTopics);
      // Filed under its device from now on.
      await r.set(topic('old'), entry('4', NAS));
      expect(r.device(UNKNOWN_DEVICE)).toEqual([]);
      expect(r.device(NAS).map(([t]) => t)).toEqual([topic('a'), topic('b'), topic('old')]);
      r.close();
    }));

  it('moves an older JSON registry in once, then removes the file', () =>
    withRegistry(async (dir) => {
      const file = join(dir, 'discovery.json');
      const entries = new Map([
        [topic('a'), entry('1', NAS)],
        [topic('legacy'), { hash: '9', stateTopics: [] }],
      ]);
      await writeFile(file, registryFileText(entries));
      await writeFile(`${file}.77.1.tmp`, '{"version": 1, "entr');
      const infos: unknown[] = [];
      const log = { warn: () => undefined, info: (obj: object) => void infos.push(obj) };
      const db = join(dir, 'discovery.db');
      const r = await SqliteDiscoveryRegistry.open(db, { migrateFrom: file, log });
      expect(r.list()).toEqual([...entries].sort(([x], [y]) => (x < y ? -1 : 1)));
      expect(infos).toEqual([expect.objectContaining({ entries: 2 })]);
      expect((await readdir(dir)).filter((f) => f.startsWith('discovery.json'))).toEqual([]);
      r.close();
      const again = await SqliteDiscoveryRegistry.open(db, { migrateFrom: file, log });
      expect(again.list()).toHaveLength(2);
      expect(infos).toHaveLength(1);
      again.close();
    }));

  it('keeps its own rows over an older file found beside them', () =>
    withRegistry(async (dir) => {
      const file = join(dir, 'discovery.json');
      const db = join(dir, 'discovery.db');
      const r = await SqliteDiscoveryRegistry.open(db);
      await r.set(topic('a'), entry('new', NAS));
      r.close();
      await writeFile(
        file,
        registryFileText(
          new Map([
            [topic('a'), entry('old', NAS)],
            [topic('b'), entry('b', NAS)],
          ]),
        ),
      );
      const again = await SqliteDiscoveryRegistry.open(db, { migrateFrom: file });
      expect(again.list().map(([t, e]) => [t, e.hash])).toEqual([
        [topic('a'), 'new'],
        [topic('b'), 'b'],
      ]);
      again.close();
    }));

  it('sets an unreadable JSON registry aside, says so, and starts empty', () =>
    withRegistry(async (dir) => {
      const file = join(dir, 'discovery.json');
      await writeFile(file, JSON.stringify({ version: 1, entries: { t: { hash: 3 } } }));
      const warnings: Array<{ obj: object; msg: string }> = [];
      const log = { warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
      const r = await SqliteDiscoveryRegistry.open(join(dir, 'discovery.db'), {
        migrateFrom: file,
        log,
      });
      expect(r.list()).toEqual([]);
      expect(warnings).toEqual([
        {
          obj: expect.objectContaining({ path: file, problem: expect.stringMatching(/entry "t"/) }),
          msg: expect.stringMatching(/unreadable; not migrated/),
        },
      ]);
      expect(existsSync(file)).toBe(false);
      expect(await readFile(`${file}.corrupt`, 'utf8')).toContain('"hash":3');
      r.close();
    }));
});
