import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureServers, requireBinary } from './apt.js';
import { getFreePort, LOOPBACK, retryOnPortClash } from './ports.js';
import { startProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

const execFileAsync = promisify(execFile);

export const SSH_TEST_USER = 'sshtest';

/** A private sshd on 127.0.0.1 accepting only the client key for SSH_TEST_USER. */
export interface SshdServer {
  host: string;
  port: number;
  user: string;
  clientKeyPath: string;
  clientKey: string;
  /** As `ssh-keygen -lf` prints it: "SHA256:" + unpadded base64 of the key's SHA-256. */
  hostKeyFingerprint: string;
  /** "[127.0.0.1]:PORT ssh-ed25519 AAAA..." for a known_hosts file. */
  knownHostsLine: string;
  dir: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts sshd with its own config, host key and authorized key in a temp dir; `extraConfig`
 * lines are appended to its sshd_config (`MaxStartups 2:100:2`).
 */
export async function startSshd(extraConfig: readonly string[] = []): Promise<SshdServer> {
  await ensureServers(['sshd']);
  if (process.getuid?.() !== 0) throw new Error('startSshd needs root (it logs in as sshtest)');
  await ensureTestUser();
  // Privilege separation needs this dir; the Debian package creates it only at boot.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await makeTempDir('sshd');
  try {
    const hostKey = join(dir, 'host_ed25519');
    const clientKeyPath = join(dir, 'client_ed25519');
    await keygen(hostKey, 'outpost-test-host');
    await keygen(clientKeyPath, 'outpost-test-client');
    // The key file stays in our dir rather than in the user's home, so concurrent sshds
    // do not overwrite each other's; sshd reads it as the user, hence 644.
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKeyPath}.pub`));
    await chmod(authorizedKeys, 0o644);
    const sshd = await requireBinary('sshd');
    const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ');
    const { stdout } = await execFileAsync('ssh-keygen', ['-lf', `${hostKey}.pub`]);
    const hostKeyFingerprint = stdout.split(' ')[1]!;

    return await retryOnPortClash(async () => {
      const port = await getFreePort();
      const config = join(dir, 'sshd_config');
      await writeFile(
        config,
        renderConfig(dir, port, hostKey, authorizedKeys) +
          extraConfig.map((l) => `${l}\n`).join(''),
      );
      await execFileAsync(sshd, ['-t', '-f', config]);
      // -D keeps it in the foreground as our child (so it is stopped by PID); -e logs to stderr.
      const proc = await startProcess({
        name: 'sshd',
        command: sshd,
        args: ['-D', '-e', '-f', config],
        dir,
        ready: { kind: 'tcp', port },
      });
      return {
        host: LOOPBACK,
        port,
        user: SSH_TEST_USER,
        clientKeyPath,
        clientKey: await readFile(clientKeyPath, 'utf8'),
        hostKeyFingerprint,
        knownHostsLine: `[${LOOPBACK}]:${port} ${hostPub[0]} ${hostPub[1]}`,
        dir,
        pid: proc.pid,
        logFile: proc.logFile,
        stop: async () => {
          await proc.stop();
          await removeTempDir(dir);
        },
      };
    });
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

function renderConfig(dir: string, port: number, hostKey: string, authorizedKeys: string): string {
  return [
    `Port ${port}`,
    `ListenAddress ${LOOPBACK}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    // The temp dir sits under the world-writable /tmp, which StrictModes rejects.
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'UsePAM no',
    `AllowUsers ${SSH_TEST_USER}`,
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

async function keygen(file: string, comment: string): Promise<void> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

async function ensureTestUser(): Promise<void> {
  const exists = () =>
    execFileAsync('id', [SSH_TEST_USER]).then(
      () => true,
      () => false,
    );
  if (!(await exists())) {
    // Another worker may create it at the same moment; only fail if it is still missing.
    await execFileAsync('useradd', ['-m', '-s', '/bin/sh', SSH_TEST_USER]).catch(async (err) => {
      if (!(await exists())) throw err;
    });
  }
  // useradd leaves the account locked ("!"), and with UsePAM no sshd refuses locked accounts.
  await execFileAsync('usermod', ['-p', '*', SSH_TEST_USER]);
}
