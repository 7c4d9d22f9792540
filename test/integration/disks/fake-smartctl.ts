import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '../../fixtures/smartctl');

/**
 * A FAKE `smartctl` (this VM's disk has no SMART): a shell script named `smartctl` in
 * `dir` that prints the captured fixtures as smartctl 7.3 would, for three drives — sda
 * healthy, sdb failing (exit status 200, as the real one exits for a failing disk), nvme0
 * healthy. It answers `--scan` (text), `-j --scan` and `-j -a -d <type> <device>`.
 * Readable and executable by sshd's test user, so the same file serves over SSH.
 */
export async function writeFakeSmartctl(dir: string): Promise<string> {
  for (const f of [
    'scan.json',
    'scan.txt',
    'sata-healthy.json',
    'sata-failing.json',
    'nvme-healthy.json',
  ]) {
    await copyFile(join(FIXTURES, f), join(dir, f));
    await chmod(join(dir, f), 0o644);
  }
  const script = join(dir, 'smartctl');
  await writeFile(
    script,
    `#!/bin/sh
# FAKE smartctl for outpost's tests: prints captured fixtures.
d=${dir}
case "$*" in
  "--scan") exec cat "$d/scan.txt" ;;
  "-j --scan") exec cat "$d/scan.json" ;;
  "-j -a -d sat /dev/sda") exec cat "$d/sata-healthy.json" ;;
  "-j -a -d sat /dev/sdb") cat "$d/sata-failing.json"; exit 200 ;;
  "-j -a -d nvme /dev/nvme0") exec cat "$d/nvme-healthy.json" ;;
esac
echo "fake smartctl: unexpected arguments: $*" >&2
exit 1
`,
  );
  await chmod(script, 0o755);
  return script;
}
