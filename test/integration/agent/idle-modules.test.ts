import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { loadedModules, moduleLogOptions } from '../../helpers/module-log.js';
import { getFreePorts } from '../../helpers/ports.js';
import { withTempDir } from '../../helpers/tmp.js';

/**
 * An idle agent loads only what its config uses (issue 15, idle RSS ≤ 70 MiB): ssh2 and
 * its native crypto addon cost about 12 MiB and come in with the first SSH host's
 * connection. Seen from outside, as the shipped agent runs: the addon is mapped into the
 * process (/proc/PID/maps) once ssh2 is loaded, and never before. Likewise the runtime of
 * every capability whose section is absent, and the CLI's other commands: each is a few
 * hundred KiB to ~1.5 MiB of heap held for the agent's whole life (a preload logs what the
 * process loads).
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

/**
 * Code an agent without these sections must not load: the runtime of each, and its library.
 * The launcher runs the bundle (dist/agent): what the agent imports late is a chunk of its
 * own, named after the module imported (scripts/bundle.mjs), with what only it uses inside
 * (the backups scheduler in `wiring`, the influx client library in the sink's chunks).
 */
const CHUNK = (names: string) => new RegExp(`/dist/agent/chunks/(${names})-[A-Z0-9]+\\.js$`);
const UNUSED = [
  /\/node_modules\/node-cron\//,
  CHUNK('client|influx-sink|sampler'),
  CHUNK('bridge'),
  CHUNK('watch'),
  CHUNK('from-config'),
  CHUNK('wiring'),
  CHUNK('doctor|events|audit|status|discovery|print-discovery|check-config'),
];

/** Starts an agent with `sections` added to a minimal config, stops it, returns what it loaded. */
async function modulesOf(sections: string): Promise<string[]> {
  const [port] = await getFreePorts(1);
  return withTempDir('modules', async (logDir) => {
    const log = join(logDir, 'loaded.log');
    const agent = await spawnAgent(
      (dir) =>
        `node: { id: idle }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n` +
        `hosts: [{ id: local }]\n${sections}`,
      { NODE_OPTIONS: moduleLogOptions(log) },
    );
    agents.push(agent);
    // The preload's module hook slows start-up; the machine may be busy.
    await agent.running(60_000);
    expect((await agent.stop()).code).toBe(0);
    return loadedModules(log);
  });
}

const unused = (loaded: string[]) => loaded.filter((u) => UNUSED.some((re) => re.test(u)));

describe('what an agent without optional sections loads', () => {
  it(
    'loads no backups, InfluxDB, Home Assistant, Zigbee2MQTT or uplink runtime, nor other CLI commands',
    { timeout: 120_000 },
    async () => {
      const loaded = await modulesOf('');
      // The log works: it holds the agent's own modules and a CommonJS dependency.
      expect(loaded.some((u) => u.endsWith('/dist/agent/main.js'))).toBe(true);
      expect(loaded.some((u) => u.includes('/node_modules/better-sqlite3/'))).toBe(true);
      expect(unused(loaded)).toEqual([]);
    },
  );

  it(
    'loads the backups runtime and node-cron once a scheduled job is configured',
    { timeout: 120_000 },
    async () => {
      const loaded = await modulesOf(
        'backups:\n  jobs:\n    - { name: nightly, command: [/bin/true], schedule: "0 3 * * *", max_age: 2d }\n',
      );
      expect(unused(loaded)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\/chunks\/wiring-[A-Z0-9]+\.js$/),
          expect.stringMatching(/\/node_modules\/node-cron\//),
        ]),
      );
    },
  );
});
