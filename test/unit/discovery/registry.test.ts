import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileDiscoveryRegistry,
  MemoryDiscoveryRegistry,
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

describe('FileDiscoveryRegistry', () => {
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
