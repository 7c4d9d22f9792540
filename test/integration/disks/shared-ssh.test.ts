import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { diskState, diskTopics } from './helpers.js';

/**
 * Issue #16 point 1: containers and disks of one SSH host go over the host's one
 * connection. The agent reaches the real sshd through a TCP relay that counts the
 * connections opened through it; sshd's log counts the logins. The engine command is
 * `true` (a host with no containers: `true ps -aq` prints nothing and succeeds), so the
 * container poll needs no engine and still runs over SSH every time.
 */
describe('one SSH connection per host, shared by containers and disks', () => {
  let sshd: SshdServer;
  let proxy: TcpProxy;
  let agent: AgentProcess;
  let url: string;
  const logins = async () =>
    ((await readFile(sshd.logFile, 'utf8')).match(/Accepted publickey for sshtest/g) ?? []).length;

  beforeAll(async () => {
    sshd = await startSshd();
    proxy = await startTcpProxy(sshd.port);
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: nas
    ssh:
      host: 127.0.0.1
      port: ${proxy.port}
      user: ${sshd.user}
      key_file: ${sshd.clientKeyPath}
      host_key: "${sshd.hostKeyFingerprint}"
    engine: { command: [ "true" ] }
containers: { poll_every: 500ms }
disks:
  poll_every: 500ms
  include: [ "/" ]
`,
    );
    await agent.running(30_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.cleanup();
    await proxy?.stop();
    await sshd?.stop();
  });

  it('polls containers and disks over one TCP connection and one login', async () => {
    const host = 'outpost/edge/hosts/nas';
    await eventually(async () => {
      const m = await retained(url, host);
      expect(JSON.parse(m.get(host) ?? '{}')).toMatchObject({ status: 'ok', containers: 0 });
    });
    const root = diskTopics('nas', '/').state;
    await eventually(async () =>
      expect(await diskState(url, root)).toMatchObject({ mount: '/', error: null }),
    );
    // Both have polled (more than once by now at 500 ms): still the first connection.
    expect(proxy.accepted).toBe(1);
    expect(await logins()).toBe(1);
    // The capabilities stop; the shared connection closes with the last of them.
    await agent.stop();
    await eventually(async () =>
      expect(await readFile(sshd.logFile, 'utf8')).toMatch(/Disconnected from user sshtest/),
    );
  }, 90_000);
});
