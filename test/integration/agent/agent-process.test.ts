import { writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/dispatch.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { Collector, observer, retained, waitUntil } from '../../helpers/mqtt.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { getFreePort } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

let mosquitto: MosquittoBroker;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(async () => {
  await mosquitto?.stop();
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.cleanup();
});

async function agent(yaml: (dir: string) => string, env: NodeJS.ProcessEnv = {}) {
  const a = await spawnAgent(yaml, env);
  agents.push(a);
  return a;
}

describe('the agent process', () => {
  it('runs with its embedded broker: online, then offline and exit 0 within 5 s on SIGTERM', async () => {
    const port = await getFreePort();
    const a = await agent(
      (dir) =>
        `node: { id: edge }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`,
    );
    const url = `mqtt://127.0.0.1:${port}`;
    await a.running(15_000);
    const c = await new Collector(await observer(url)).subscribe('outpost/edge/availability');
    await c.waitFor(() => c.last('outpost/edge/availability') === 'online', 'online');

    expect((await a.stop('SIGTERM')).code).toBe(0);
    // A clean stop, not run.ts's deadline giving up on it.
    expect(a.output()).toContain('"msg":"stopped"');
    expect(a.output()).not.toContain('stop took too long');
    expect(c.messages.map((m) => m.payload)).toEqual(['online', 'offline']);
  });

  it('keeps offline retained across a restart of the embedded broker', async () => {
    const port = await getFreePort();
    const yaml = (dir: string) =>
      `node: { id: edge }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`;
    const a = await agent(yaml);
    await a.running(15_000);
    expect((await a.stop('SIGINT')).code).toBe(0);
    // Same data dir, a second run: retained state is there before the agent says online.
    const b = await spawnAgent(() => yaml(a.dir));
    agents.push(b);
    await b.running(15_000);
    const seen = await retained(`mqtt://127.0.0.1:${port}`, 'outpost/#');
    expect(seen.get('outpost/edge/availability')).toBe('online');
  });

  it('on an external broker: SIGTERM leaves offline retained; kill -9 makes the broker send the will', async () => {
    const yaml = (dir: string) =>
      `node: { id: ext }\ndata_dir: ${dir}/data\nbroker: { mode: external, url: "${mosquitto.url}" }\n`;
    const a = await agent(yaml);
    const c = await new Collector(await observer(mosquitto.url)).subscribe(
      'outpost/ext/availability',
    );
    await c.waitFor(() => c.last('outpost/ext/availability') === 'online', 'online');
    expect((await a.stop('SIGTERM')).code).toBe(0);
    expect((await retained(mosquitto.url, 'outpost/ext/#')).get('outpost/ext/availability')).toBe(
      'offline',
    );

    const b = await agent(yaml);
    await c.waitFor(() => c.last('outpost/ext/availability') === 'online', 'online again');
    await b.stop('SIGKILL');
    await c.waitFor(() => c.last('outpost/ext/availability') === 'offline', 'the last will');
  });

  it('starts without its broker and connects when the broker appears', async () => {
    const broker = await startMosquitto({ listeners: ['anonymous'] });
    await broker.down();
    const a = await agent(
      (dir) =>
        `node: { id: late }\ndata_dir: ${dir}/data\nbroker: { mode: external, url: "${broker.url}" }\nmqtt: { reconnect_min: 100ms, reconnect_max: 500ms }\n`,
    );
    await a.running(20_000);
    await broker.up();
    const c = await new Collector(await observer(broker.url)).subscribe(
      'outpost/late/availability',
    );
    await c.waitFor(
      () => c.last('outpost/late/availability') === 'online',
      'online after the broker came up',
      15_000,
    );
    expect((await a.stop()).code).toBe(0);
    await broker.stop();
  });

  it('never writes a password or token to its log, even at trace level and on errors', async () => {
    const secrets = ['brokerpw-93fa1', 'userpw-7c2e0', 'Bearer-tok-55'];
    const a = await agent(
      (dir) => `node: { id: sec }
data_dir: ${dir}/data
broker:
  mode: external
  url: "mqtt://outpost:${secrets[0]}@127.0.0.1:${mosquitto.authPort}"
  username: outpost
  password: "\${BROKER_PASSWORD}"
mqtt: { reconnect_min: 100ms, reconnect_max: 200ms }
`,
      { BROKER_PASSWORD: secrets[1], LOG_LEVEL: 'trace', SOME_TOKEN: secrets[2] },
    );
    await waitUntil(
      () => /refused|connection error/.test(a.output()),
      'a refused login to be logged',
      15_000,
    );
    await a.stop();
    const log = a.output();
    expect(log.length).toBeGreaterThan(200);
    for (const s of secrets.slice(0, 2)) expect(log).not.toContain(s);
  });

  it('stops cleanly on a SIGTERM that arrives while it is still starting', async () => {
    const port = await getFreePort();
    const a = await agent(
      (dir) =>
        `node: { id: early }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`,
    );
    await waitUntil(() => a.output().includes('outpost starting'), 'the first log line', 15_000);
    const { code, signal } = await a.stop('SIGTERM');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  it('exits 2 with one line per problem on a bad config', async () => {
    const a = await agent(() => 'broker: { mode: nope }\nmqtt: { queue_limit: -1 }\n');
    const { code } = await a.stop('SIGCONT');
    expect(code).toBe(2);
    expect(a.output()).toContain('broker.mode: expected "embedded" or "external", got "nope"');
    expect(a.output()).toContain(
      'mqtt.queue_limit: expected a whole number of messages, 0 or more, got -1',
    );
  });
});

describe('outpost status', () => {
  it('prints the node’s retained state as a table', async () => {
    const port = await getFreePort();
    const a = await agent(
      (dir) => `node: { id: st }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`,
    );
    await a.running(15_000);
    const out: string[] = [];
    const code = await main(['status', '--config', a.configFile], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: {},
    });
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^TOPIC\s+STATE$/);
    expect(out).toContainEqual(expect.stringMatching(/^availability\s+online$/));
    expect(out).toContainEqual(expect.stringMatching(/^hosts\/local\/availability\s+online$/));
  });

  it('says so when the broker is not there', async () => {
    const port = await getFreePort();
    const dir = await makeTempDir('status');
    const file = `${dir}/status.yaml`;
    await writeFile(file, `node: { id: st }\nbroker: { listen: "127.0.0.1:${port}" }\n`);
    const out: string[] = [];
    const code = await main(['status', '--config', file, '--wait', '500'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: {},
    });
    expect(code).toBe(1);
    expect(out.join('\n')).toContain('cannot reach the broker');
    await removeTempDir(dir);
  });
});
