import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  removeTempFiles,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../../src/core/atomic-file.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('atomic-file');
});
afterEach(() => removeTempDir(dir));

const forms = {
  promise: writeFileAtomic,
  // A throw inside the executor rejects, as the promise form does.
  blocking: (...args: Parameters<typeof writeFileAtomicSync>) =>
    new Promise<void>((resolve) => resolve(writeFileAtomicSync(...args))),
};

for (const [form, write] of Object.entries(forms)) {
  describe(`writeFileAtomic (${form})`, () => {
    it('creates and then replaces the file, with the mode asked for', async () => {
      const path = join(dir, 'state.json');
      await write(path, 'first\n', { mode: 0o640 });
      expect(readFileSync(path, 'utf8')).toBe('first\n');
      await write(path, Buffer.from('second\n'), { mode: 0o640 });
      expect(readFileSync(path, 'utf8')).toBe('second\n');
      expect(statSync(path).mode & 0o777).toBe(0o640 & ~process.umask());
      expect(readdirSync(dir)).toEqual(['state.json']);
    });

    it('leaves the old file and no temp file when the rename fails', async () => {
      const path = join(dir, 'taken');
      mkdirSync(join(path, 'inside'), { recursive: true });
      await expect(write(path, 'data')).rejects.toThrow();
      expect(readdirSync(dir)).toEqual(['taken']);
      expect(readdirSync(path)).toEqual(['inside']);
    });
  });
}

describe('removeTempFiles', () => {
  it('removes what a crash left beside the file, and nothing else', async () => {
    const path = join(dir, 'discovery.json');
    for (const name of [
      'discovery.json',
      'discovery.json.4242.7.tmp',
      'discovery.json.tmp',
      'discovery.jsonl.1.1.tmp',
      'other.json.1.1.tmp',
    ]) {
      writeFileSync(join(dir, name), 'x');
    }
    await removeTempFiles(path);
    expect(readdirSync(dir).sort()).toEqual([
      'discovery.json',
      'discovery.jsonl.1.1.tmp',
      'other.json.1.1.tmp',
    ]);
  });
});
