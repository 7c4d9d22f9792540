import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Set OUTPOST_KEEP_TMP=1 to keep the servers' temp dirs (configs, logs) for debugging. */
const keepTemp = (): boolean => process.env.OUTPOST_KEEP_TMP === '1';

/**
 * Creates a fresh directory under the OS temp dir. It is made traversable (0755) because
 * servers started as root drop to another user (mosquitto) and must still reach their files.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `outpost-${prefix}-`));
  await chmod(dir, 0o755);
  return dir;
}

/** Removes a temp dir, first unmounting anything a server left mounted inside it. */
export async function removeTempDir(dir: string): Promise<void> {
  if (keepTemp()) return;
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Runs `fn` with a fresh temp dir and removes the dir afterwards. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  let info: string;
  try {
    info = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return info
    .split('\n')
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
    .filter((mount) => mount === dir || mount.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts every mount below `dir` (dockerd's netns bind mount, podman's shm). */
export async function unmountUnder(dir: string): Promise<void> {
  for (const mount of await mountsUnder(dir)) {
    await execFileAsync('umount', ['-l', mount]).catch(() => undefined);
  }
}

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
