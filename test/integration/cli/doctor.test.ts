import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/dispatch.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { eventually } from '../../helpers/eventually.js';
import { observer } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';

/**
 * `outpost doctor` against a real site: the agent as it ships (launcher, embedded broker or
 * mosquitto), a real sshd for its SSH host, then the doctor run with the agent's config.
 */

let sshd: SshdServer;
let mosquitto: MosquittoBroker;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  [sshd, mosquitto] = await Promise.all([startSshd(), startMosquitto()]);
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), mosquitto?.stop()]);
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.cleanup();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} },
  };
}

const sshHost = (hostKey: string) => `
  - id: far
    ssh:
      host: ${sshd.host}
      port: ${sshd.port}
      user: ${sshd.user}
      key_file: ${sshd.clientKeyPath}
      host_key: "${hostKey}"`;

async function agent(broker: string, hostKey = sshd.hostKeyFingerprint): Promise<AgentProcess> {
  const a = await spawnAgent(
    (dir) =>
      `node: { id: doc }\ndata_dir: ${dir}/data\n${broker}\nhosts:\n  - id: local${sshHost(hostKey)}\n`,
  );
  agents.push(a);
  await a.running();
  return a;
}

/** The doctor's lines as check → verdict, and the whole output for messages. */
async function doctor(a: AgentProcess) {
  const c = capture();
  const code = await main(['doctor', '--config', a.configFile], c.io);
  const verdicts = new Map<string, string>();
  for (const line of c.out) {
    const m = /^(ok|WARN|FAIL)\s+(\S+(?: \S+)?)\s{2,}/.exec(line);
    if (m) verdicts.set(m[2]!, m[1]!);
  }
  return { code, verdicts, text: c.out.join('\n'), err: c.err };
}

// Each starts the agent and runs the doctor more than once: minutes on a loaded machine.
describe('outpost doctor', { timeout: 180_000 }, () => {
  it('passes a healthy site on the embedded broker, warning only that no HA birth is retained', async () => {
    const port = await getFreePort();
    const a = await agent(`broker: { listen: "127.0.0.1:${port}" }`);
    // "outpost running" comes before discovery's first round has reached the broker.
    const r = await eventually(
      async () => {
        const d = await doctor(a);
        expect(d.code, d.text).toBe(0);
        return d;
      },
      { timeout: 60_000 },
    );
    expect(r.text).toMatch(/all 8 checks passed \(1 warning\(s\)\)$/);
    expect(r.code, r.text).toBe(0);
    expect(Object.fromEntries(r.verdicts)).toEqual({
      config: 'ok',
      broker: 'ok',
      agent: 'ok',
      'home assistant': 'WARN',
      discovery: 'ok',
      store: 'ok',
      'ssh far': 'ok',
      clock: 'ok',
    });
    expect(r.text).toContain('homeassistant/status');
    expect(r.err).toEqual([]);

    // The same broker seen with another node's config: nothing of that node is there.
    const other = join(a.dir, 'other.yaml');
    await writeFile(
      other,
      `node: { id: other }\ndata_dir: ${a.dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`,
    );
    const c = capture();
    expect(await main(['doctor', '-c', other], c.io)).toBe(1);
    const text = c.out.join('\n');
    expect(text).toContain(
      'FAIL  agent           nothing is retained on outpost/other/availability',
    );
    expect(text).toMatch(
      /FAIL {2}discovery {7}\d+ of the \d+ configs this config produces are not retained \(homeassistant\/[^ ]+\/config/,
    );
  });

  it("on mosquitto: sees Home Assistant's retained birth, then the agent's offline once it stopped", async () => {
    const a = await agent(`broker: { mode: external, url: "${mosquitto.url}" }`);
    const ha = await observer(mosquitto.url);
    await ha.publishAsync('homeassistant/status', 'online', { retain: true, qos: 1 });
    try {
      let r = await eventually(
        async () => {
          const d = await doctor(a);
          expect(d.code, d.text).toBe(0);
          return d;
        },
        { timeout: 60_000 },
      );
      expect(r.verdicts.get('home assistant'), r.text).toBe('ok');

      expect((await a.stop('SIGTERM')).code).toBe(0);
      r = await doctor(a);
      expect(r.code).toBe(1);
      expect(r.verdicts.get('agent')).toBe('FAIL');
      expect(r.text).toContain('outpost/doc/availability is "offline"');
      expect(r.text).toMatch(/fix: the agent stopped or lost the broker/);
    } finally {
      await ha.publishAsync('homeassistant/status', '', { retain: true, qos: 1 });
      await ha.endAsync();
    }
  });

  it('fails an SSH host whose key is not the pinned one, and says how to re-pin it', async () => {
    const port = await getFreePort();
    const a = await agent(`broker: { listen: "127.0.0.1:${port}" }`, `SHA256:${'A'.repeat(43)}`);
    const r = await doctor(a);
    expect(r.code).toBe(1);
    expect(r.verdicts.get('ssh far')).toBe('FAIL');
    expect(r.text).toContain(sshd.hostKeyFingerprint);
    expect(r.text).toMatch(
      /fix: if the host was reinstalled, pin the key it offers now in hosts\[1\]\.ssh\.host_key/,
    );
  });

  it('fails an unreachable embedded broker and every check that needs it, naming the listener', async () => {
    const port = await getFreePort();
    const a = await agent(`broker: { listen: "127.0.0.1:${port}" }`);
    expect((await a.stop('SIGTERM')).code).toBe(0);
    const r = await doctor(a);
    expect(r.code).toBe(1);
    for (const check of ['broker', 'agent', 'home assistant', 'discovery']) {
      expect(r.verdicts.get(check), check).toBe('FAIL');
    }
    expect(r.text).toContain(`cannot reach mqtt://127.0.0.1:${port}`);
    expect(r.text).toContain(`is it running (broker.listen 127.0.0.1:${port})?`);
    // What does not need the broker is still checked.
    expect(r.verdicts.get('store')).toBe('ok');
    expect(r.verdicts.get('ssh far')).toBe('ok');
  });

  it('fails a bad config naming the file and the key, and how to see all of it', async () => {
    const port = await getFreePort();
    const a = await agent(`broker: { listen: "127.0.0.1:${port}" }`);
    await writeFile(a.configFile, 'broker: { mode: embeded }\n');
    const r = await doctor(a);
    expect(r.code).toBe(1);
    expect(r.text).toContain(
      `FAIL  config  ${a.configFile}: broker.mode: expected "embedded" or "external", got "embeded"`,
    );
    expect(r.text).toContain(`fix: outpost check-config ${a.configFile}`);
  });
});
