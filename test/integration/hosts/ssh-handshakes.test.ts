import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/core/backoff.js';
import { parseConfig } from '../../../src/config/load.js';
import { systemClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { SshStatus } from '../../../src/hosts/ssh-connection.js';
import { SshPool, type SshSession } from '../../../src/hosts/ssh-pool.js';
import { eventually } from '../../helpers/eventually.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';

/**
 * Issue 15 point 4: many hosts dialled at once must not be refused by sshd's MaxStartups.
 * One real sshd that takes at most 4 unauthenticated connections at a time (and logs each
 * one it drops) stands for the hosts behind it. The pool's handshake slots keep the agent
 * well under that (2 here, as MAX_HANDSHAKES, 8, is under sshd's default 10: sshd counts a
 * login as done a moment after the client does); dialling every host at once is refused.
 */
const HOSTS = 12;

describe('SSH handshakes: a bounded number at once', () => {
  let sshd: SshdServer;
  const drops = async () =>
    ((await readFile(sshd.logFile, 'utf8')).match(/past MaxStartups/g) ?? []).length;

  beforeAll(async () => {
    sshd = await startSshd(['MaxStartups 4:100:4', 'LogLevel VERBOSE']);
  }, 60_000);

  afterAll(async () => {
    await sshd?.stop();
  });

  /** Every host's first status, and the leases to stop. */
  async function dialAll(maxHandshakes: number) {
    const ssh = {
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      key_file: sshd.clientKeyPath,
      host_key: sshd.hostKeyFingerprint,
    };
    // JSON is YAML: the hosts as an operator would write them.
    const hosts = Array.from({ length: HOSTS }, (_, i) => ({ id: `h${i}`, ssh }));
    const { config } = parseConfig(JSON.stringify({ node: { id: 'edge' }, hosts }), { env: {} });
    const pool = new SshPool(config.hosts, {
      clock: systemClock,
      log: silentLogger(),
      backoff: () => new Backoff({ initialMs: 50, maxMs: 500 }),
      maxHandshakes,
    });
    const refused = new Set<string>();
    const leases: SshSession[] = hosts.map((h) =>
      pool.lease(h.id, (s: SshStatus) => {
        if (!s.connected) refused.add(h.id);
      }),
    );
    await Promise.all(leases.map((l) => l.start()));
    return { leases, refused };
  }

  it('logs every host in on its first try with 2 handshakes at a time', async () => {
    const before = await drops();
    const { leases, refused } = await dialAll(2);
    try {
      expect([...refused]).toEqual([]);
      expect(leases.every((l) => l.connected)).toBe(true);
      const runs = await Promise.all(leases.map((l) => l.exec('echo ok', { timeoutMs: 30_000 })));
      expect(runs.map((r) => r.stdout.toString().trim())).toEqual(Array(HOSTS).fill('ok'));
      expect(await drops()).toBe(before);
    } finally {
      await Promise.all(leases.map((l) => l.stop()));
    }
  }, 120_000);

  it('is refused by the same sshd when every host is dialled at once (the control)', async () => {
    const before = await drops();
    const { leases, refused } = await dialAll(HOSTS);
    try {
      expect(refused.size).toBeGreaterThan(0);
      expect(await drops()).toBeGreaterThan(before);
      // The refused ones come back on their own, after their backoff.
      await eventually(() => expect(leases.every((l) => l.connected)).toBe(true), {
        timeout: 60_000,
      });
    } finally {
      await Promise.all(leases.map((l) => l.stop()));
    }
  }, 120_000);
});
