import { readFile } from 'node:fs/promises';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnEdgeAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { retained } from '../../helpers/mqtt.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { jobState } from '../backups/helpers.js';
import { diskState, diskTopics } from './helpers.js';

/**
 * Issue #16 point 1: containers, disks and backups of one SSH host go over the host's one
 * connection. The agent reaches the real sshd through a TCP relay that counts the
 * connections opened through it; sshd's log counts the logins. The engine command is
 * `true` (a host with no containers: `true ps -aq` prints nothing and succeeds), so the
 * container poll needs no engine and still runs over SSH every time.
 */
describe('one SSH connection per host, shared by containers, disks and backups', () => {
  let sshd: SshdServer;
  let proxy: TcpProxy;
  let agent: AgentProcess;
  let url: string;
  const logins = async () =>
    ((await readFile(sshd.logFile, 'utf8')).match(/Accepted publickey for sshtest/g) ?? []).length;

  beforeAll(async () => {
    sshd = await startSshd();
    proxy = await startTcpProxy(sshd.port);
    ({ agent, url } = await spawnEdgeAgent(
      () => `hosts:
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
backups:
  check_every: 500ms
  jobs:
    - { name: etc, host: nas, watch_path: /etc, max_age: 1000d }
    - { name: noop, host: nas, command: [ "true" ], max_age: 1h }
policy:
  - { action: run_backup, decision: allow }
remediation: { anonymous_commands: true }
`,
    ));
  }, 60_000);

  afterAll(async () => {
    await agent?.cleanup();
    await proxy?.stop();
    await sshd?.stop();
  });

  it('polls containers, disks and backups over one TCP connection and one login', async () => {
    const host = 'outpost/edge/hosts/nas';
    await eventually(async () => {
      const m = await retained(url, host);
      expect(JSON.parse(m.get(host) ?? '{}')).toMatchObject({ status: 'ok', containers: 0 });
    });
    const root = diskTopics('nas', '/').state;
    await eventually(async () =>
      expect(await diskState(url, root)).toMatchObject({ mount: '/', error: null }),
    );
    // A watched path read on the host, and a job run there now.
    await eventually(async () => expect((await jobState(url, 'etc'))?.status).toBe('ok'));
    const ops = await connectAsync(url);
    await ops.publishAsync('outpost/edge/cmd/run_backup', JSON.stringify({ target: 'noop' }), {
      qos: 1,
    });
    await ops.endAsync();
    await eventually(async () =>
      expect(await jobState(url, 'noop')).toMatchObject({ status: 'ok', exit_code: 0 }),
    );
    // All have polled (more than once by now at 500 ms): still the first connection.
    expect(proxy.accepted).toBe(1);
    expect(await logins()).toBe(1);
    // The capabilities stop; the shared connection closes with the last of them.
    await agent.stop();
    await eventually(async () =>
      expect(await readFile(sshd.logFile, 'utf8')).toMatch(/Disconnected from user sshtest/),
    );
  }, 90_000);
});
