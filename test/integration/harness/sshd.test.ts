import { createHash } from 'node:crypto';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive } from '../../helpers/process.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';

const fingerprint = (key: Buffer) =>
  `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

/** Connects with the client key, accepting only a host key with `pinned` fingerprint. */
function runCommand(server: SshdServer, pinned: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on('ready', () => {
        client.exec(command, (err, stream) => {
          if (err) return reject(err);
          let out = '';
          stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
          stream.on('close', () => {
            client.end();
            resolve(out);
          });
        });
      })
      .on('error', reject)
      .connect({
        host: server.host,
        port: server.port,
        username: server.user,
        privateKey: server.clientKey,
        hostVerifier: (key: Buffer) => fingerprint(key) === pinned,
        readyTimeout: 10_000,
      });
  });
}

describe('startSshd', () => {
  let server: SshdServer;

  beforeAll(async () => {
    server = await startSshd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts the client key when the host key fingerprint matches', async () => {
    expect(server.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(server.knownHostsLine).toMatch(
      new RegExp(`^\\[127\\.0\\.0\\.1\\]:${server.port} ssh-ed25519 AAAA\\S+$`),
    );
    expect(await runCommand(server, server.hostKeyFingerprint, 'id -un')).toBe('sshtest\n');
  });

  it('lets ssh2 reject a host key with another fingerprint', async () => {
    const wrong = 'SHA256:' + 'A'.repeat(43);
    await expect(runCommand(server, wrong, 'true')).rejects.toThrow(/verification failed/i);
  });

  it('stops by PID', async () => {
    const other = await startSshd();
    expect(other.port).not.toBe(server.port);
    expect(isPidAlive(other.pid)).toBe(true);
    await other.stop();
    expect(isPidAlive(other.pid)).toBe(false);
  });
});
