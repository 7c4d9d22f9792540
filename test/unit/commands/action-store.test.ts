import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { MemoryActionStore, type ActionStore } from '../../../src/commands/action-store.js';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { FileActionStore } from '../../../src/commands/file-action-store.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { actionStoreContract, record } from './action-store-contract.js';

actionStoreContract(
  'memory',
  () => {
    const backing = new Map<string, ActionRecord>();
    return Promise.resolve({
      open: () => Promise.resolve(new MemoryActionStore(backing)),
      reopen: () => Promise.resolve(new MemoryActionStore(backing)),
      cleanup: () => Promise.resolve(),
    });
  },
  { durable: false },
);

actionStoreContract(
  'file (JSON lines)',
  async () => {
    const dir = await makeTempDir('action-store');
    const path = join(dir, 'data', 'actions.jsonl');
    const open: ActionStore[] = [];
    const opened = async () => {
      const s = await FileActionStore.open(path);
      open.push(s);
      return s;
    };
    return {
      open: opened,
      reopen: opened,
      // What a crash in the middle of writing a line leaves: half a line, no newline.
      crashMidWrite: () => appendFile(path, JSON.stringify({ put: record('torn') }).slice(0, 40)),
      damageMiddle: async () => {
        const lines = (await readFile(path, 'utf8')).split('\n');
        lines[1] = '{"put": {"id": "b", "garbage';
        await writeFile(path, lines.join('\n'));
      },
      cleanup: async () => {
        for (const s of open) await s.close();
        await removeTempDir(dir);
      },
    };
  },
  { durable: true },
);

it('file store: compaction leaves no temp file and writes whole lines only', async () => {
  const dir = await makeTempDir('action-store');
  try {
    const path = join(dir, 'actions.jsonl');
    const s = await FileActionStore.open(path);
    for (let i = 0; i < 200; i++) await s.put(record('a', { reason: String(i) }));
    await s.close();
    expect(await readdir(dir)).toEqual(['actions.jsonl']);
    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').length).toBeLessThan(70);
    await expect(s.put(record('b'))).rejects.toThrow(/closed/);
  } finally {
    await removeTempDir(dir);
  }
});
