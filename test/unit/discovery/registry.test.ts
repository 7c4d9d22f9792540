import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileDiscoveryRegistry,
  MemoryDiscoveryRegistry,
  type DiscoveryRegistry,
  type RegistryChange,
  type RegistryEntry,
} from '../../../discovery/registry.js';
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

registryContract(
  'file',
  async () => {
    const dir = await makeTempDir('discovery-registry');
    const path = join(dir, 'data', 'discovery.json');
    const warnings: string[] = [];
    const log = { warn: (_obj: object, msg: string) => void warnings.push(msg) };
    return {
      open: () => FileDiscoveryRegistry.open(path, { log }),
      reopen: () => FileDiscoveryRegistry.open(path, { log }),
      // What a crash between "write temp file" and "rename" leaves: a half-written temp.
      crashMidWrite: async () => {
        const full = await readFile(path, 'utf8');
        await writeFile(`${path}.4242.7.tmp`, full.slice(0, Math.floor(full.length / 2)));
      },
      corrupt: () => writeFile(path, '{"version": 1, "entries": {"x": '),
      warnings: () => warnings,
      cleanup: () => removeTempDir(dir),
    };
  },
  { durable: true },
);

/** A file registry that lets go of its entries after every write, as between rounds. */
function releasing(r: FileDiscoveryRegistry): DiscoveryRegistry {
  const after = async (p: Promise<void>) => {
    r.release();
    await p;
  };
  return {
    get: (t) => r.get(t),
    list: () => r.list(),
    set: (t, e) => after(r.set(t, e)),
    delete: (t) => after(r.delete(t)),
    apply: (c: RegistryChange) => after(r.apply(c)),
  };
}

registryContract('file, released after every write', async () => {
  const dir = await makeTempDir('discovery-registry');
  const path = join(dir, 'discovery.json');
  return {
    open: async () => releasing(await FileDiscoveryRegistry.open(path)),
    reopen: async () => releasing(await FileDiscoveryRegistry.open(path)),
    cleanup: () => removeTempDir(dir),
  };
});

describe('FileDiscoveryRegistry', () => {
  it('lets go of its entries once writes landed and reads them back', async () => {
    const dir = await makeTempDir('discovery-registry');
    try {
      const path = join(dir, 'discovery.json');
      const r = await FileDiscoveryRegistry.open(path);
      const state = ['outpost/n/hosts/h/containers/c'];
      const device = 'homeassistant/device/outpost_n/host_h/config';
      const writes = ['a', 'b', 'c'].map((k) =>
        r.set(`homeassistant/sensor/outpost_n/${k}/config`, {
          hash: k,
          stateTopics: state,
          deviceTopic: device,
        }),
      );
      r.release();
      // Writes still in flight: the entries stay until they have landed.
      expect(r.resident).toBe(true);
      await Promise.all(writes);
      await Promise.resolve();
      expect(r.resident).toBe(false);
      const [a, b, c] = r.list().map(([, e]) => e);
      expect(r.resident).toBe(true);
      expect([a!.hash, b!.hash, c!.hash]).toEqual(['a', 'b', 'c']);
      // One copy of what entries share.
      expect(a!.stateTopics).toBe(b!.stateTopics);
      expect(a!.stateTopics).toEqual(state);
      await r.delete('homeassistant/sensor/outpost_n/b/config');
      expect((await FileDiscoveryRegistry.open(path)).list().map(([t]) => t)).toEqual([
        'homeassistant/sensor/outpost_n/a/config',
        'homeassistant/sensor/outpost_n/c/config',
      ]);
    } finally {
      await removeTempDir(dir);
    }
  });

  it('keeps its entries when a write failed (the file is behind)', async () => {
    const dir = await makeTempDir('discovery-registry');
    try {
      const path = join(dir, 'sub', 'discovery.json');
      const r = await FileDiscoveryRegistry.open(path);
      await removeTempDir(join(dir, 'sub'));
      await expect(r.set('t', { hash: 'h', stateTopics: [] })).rejects.toThrow();
      r.release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(r.resident).toBe(true);
      expect(r.get('t')?.hash).toBe('h');
    } finally {
      await removeTempDir(dir);
    }
  });

  it('writes readable JSON, sets a corrupt file aside and removes stray temp files', async () => {
    const dir = await makeTempDir('discovery-registry');
    try {
      const path = join(dir, 'discovery.json');
      const r = await FileDiscoveryRegistry.open(path);
      await r.set('homeassistant/sensor/outpost_n/a/config', { hash: 'h', stateTopics: ['s/t'] });
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
        version: 1,
        entries: { 'homeassistant/sensor/outpost_n/a/config': { hash: 'h', stateTopics: ['s/t'] } },
      });
      await writeFile(`${path}.1.1.tmp`, 'partial');
      await writeFile(path, 'not json');
      const reopened = await FileDiscoveryRegistry.open(path);
      expect(reopened.loadProblem).toMatch(/not JSON/);
      expect((await readdir(dir)).sort()).toEqual(['discovery.json.corrupt']);
      expect(await readFile(`${path}.corrupt`, 'utf8')).toBe('not json');
    } finally {
      await removeTempDir(dir);
    }
  });

  it('rejects entries of the wrong shape as corruption', async () => {
    const dir = await makeTempDir('discovery-registry');
    try {
      const path = join(dir, 'discovery.json');
      await writeFile(path, JSON.stringify({ version: 1, entries: { t: { hash: 3 } } }));
      const r = await FileDiscoveryRegistry.open(path);
      expect(r.list()).toEqual([]);
      expect(r.loadProblem).toMatch(/entry "t"/);
    } finally {
      await removeTempDir(dir);
    }
  });
});
