import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { getFreePorts } from '../../helpers/ports.js';

/**
 * An idle agent loads only what its config uses (issue 15, idle RSS ≤ 70 MiB): ssh2 and
 * its native crypto addon cost about 12 MiB and come in with the first SSH host's
 * connection. Seen from outside, as the shipped agent runs: the addon is mapped into the
 * process (/proc/PID/maps) once ssh2 is loaded, and never before.
 */

const SSH_ADDON = /\/ssh2\/.*\.node$/m;

const agents: AgentProcess[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.cleanup();
});

async function maps(a: AgentProcess): Promise<string> {
  return readFile(`/proc/${a.child.pid}/maps`, 'utf8');
}

describe('what an idle agent loads', () => {
  it('leaves ssh2 unloaded without SSH hosts, and loads it for the first one', async () => {
    const [brokerA, brokerB, closed] = await getFreePorts(3);
    const base = (dir: string, port: number) =>
      `node: { id: idle }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`;

    const local = await spawnAgent((dir) => `${base(dir, brokerA!)}hosts: [{ id: local }]\n`);
    agents.push(local);
    await local.running(20_000);
    expect(await maps(local)).not.toMatch(SSH_ADDON);

    // Nothing listens on `closed`: the connection fails, after ssh2 was loaded for it.
    const remote = await spawnAgent(
      (dir) =>
        `${base(dir, brokerB!)}hosts:\n` +
        `  - id: far\n` +
        `    ssh: { host: 127.0.0.1, port: ${closed}, user: outpost, key_file: ${dir}/id, ` +
        `host_key: "SHA256:${'A'.repeat(43)}" }\n` +
        `    engine: { command: [docker] }\n`,
    );
    agents.push(remote);
    await remote.running(20_000);
    await eventually(() => expect(remote.output()).toContain('ssh down'));
    expect(await maps(remote)).toMatch(SSH_ADDON);
  });
});
