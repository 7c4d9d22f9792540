import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { main } from '../../../src/cli/dispatch.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { observer, waitUntil } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';

/**
 * One event through every sink of a running agent: the local event stream, the uplink to
 * a central broker (over TLS with a password, under the site prefix, with its id as an
 * MQTT 5 user property), the JSON-lines journal, and `outpost events`.
 */
describe('an event from a running agent', () => {
  let upstream: MosquittoBroker;
  let agent: AgentProcess;
  const upstreamSeen: { topic: string; payload: string; eventId: unknown }[] = [];

  beforeAll(async () => {
    upstream = await startMosquitto({ listeners: ['tls'] });
    const central = await observer(upstream.tlsUrl, {
      protocolVersion: 5,
      username: upstream.username,
      password: upstream.password,
      ca: upstream.caPem,
    });
    central.on('message', (topic, payload, packet) =>
      upstreamSeen.push({
        topic,
        payload: payload.toString(),
        eventId: packet.properties?.userProperties?.event_id,
      }),
    );
    await central.subscribeAsync('sites/#', { qos: 1 });
    const port = await getFreePort();
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: ghost # its engine socket does not exist: host_unreachable at start
    engine: { socket: ${dir}/no-such.sock }
uplink:
  url: ${upstream.tlsUrl}
  username: ${upstream.username}
  password: "\${UPLINK_PASSWORD}"
  client_tls: { ca_file: ${upstream.caFile} }
journal: { enabled: true }
`,
      { UPLINK_PASSWORD: upstream.password },
    );
    await agent.running(20_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.cleanup();
    await upstream?.stop();
  });

  it('reaches the central broker under the site prefix, with its id', async () => {
    await waitUntil(
      () => upstreamSeen.some((m) => m.topic === 'sites/edge/outpost/edge/events'),
      'the event upstream',
      20_000,
    );
    const m = upstreamSeen.find((x) => x.topic === 'sites/edge/outpost/edge/events')!;
    const e = JSON.parse(m.payload) as { id: string; type: string; subject: string; node: string };
    expect(e).toMatchObject({ type: 'host_unreachable', subject: 'ghost', node: 'edge' });
    expect(m.eventId).toBe(e.id);
    // the site's availability is mirrored upstream too
    await waitUntil(
      () =>
        upstreamSeen.some(
          (x) => x.topic === 'sites/edge/outpost/edge/availability' && x.payload === 'online',
        ),
      'the site online upstream',
    );
  });

  it('is in the journal and in outpost events', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const file = join(agent.dir, 'data', 'journal', day, 'edge', 'events.jsonl');
    await eventually(
      async () => {
        const lines = await readFile(file, 'utf8').then(
          (s) => s.trim().split('\n').filter(Boolean),
          () => [],
        );
        expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toContain(
          'host_unreachable',
        );
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(await readdir(join(agent.dir, 'data', 'journal'))).toEqual([day]);

    const out: string[] = [];
    const code = await main(
      [
        'events',
        '--since',
        '1h',
        '--type',
        'host_unreachable',
        '--json',
        '--config',
        agent.configFile,
      ],
      {
        out: (l) => out.push(l),
        err: (l) => out.push(l),
        env: { UPLINK_PASSWORD: upstream.password },
      },
    );
    expect(code).toBe(0);
    expect(out.map((l) => (JSON.parse(l) as { subject: string }).subject)).toEqual(['ghost']);
  });
});
