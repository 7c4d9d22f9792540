import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from './apt.js';

const execFileAsync = promisify(execFile);

/**
 * Builds `<dir>/busybox-rootfs.tar`: a root filesystem holding only the static busybox and a
 * symlink per applet. No registry is reachable here, so this tarball is imported as the image.
 */
export async function buildBusyboxRootfs(dir: string): Promise<string> {
  const busybox = await requireBinary('busybox');
  const root = join(dir, 'rootfs');
  for (const sub of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) {
    await mkdir(join(root, sub), { recursive: true });
  }
  await copyFile(busybox, join(root, 'bin', 'busybox'));
  const { stdout } = await execFileAsync(busybox, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    await symlink('busybox', join(root, 'bin', applet));
  }
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n');
  const tarball = join(dir, 'busybox-rootfs.tar');
  await execFileAsync('tar', [
    '-C',
    root,
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '-cf',
    tarball,
    '.',
  ]);
  return tarball;
}
