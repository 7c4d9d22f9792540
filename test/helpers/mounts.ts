import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { makeTempDir, removeTempDir } from './tmp.js';

const run = promisify(execFile);

/** Why a tmpfs cannot be mounted here (not root), or undefined when it can. */
export async function cannotMount(): Promise<string | undefined> {
  const dir = await makeTempDir('mount-probe');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    await run('umount', [dir]);
    return undefined;
  } catch (err) {
    return `cannot mount here (${(err as Error).message.split('\n')[0]}): needs root`;
  } finally {
    await removeTempDir(dir);
  }
}
