import { join } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { spawnEdgeAgent, type AgentProcess } from '../../helpers/agent.js';
import { startPodman, type ContainerEngine } from '../../helpers/container-engines.js';
import { Collector, observer, pollUntil, retained } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { EngineActions } from './helpers.js';

interface State {
  state: string;
  exit_code: number | null;
  started_at: string | null;
}

/**
 * A unix socket in front of the engine's that passes everything but the bodies of its
 * /events streams: the agent connects its stream (the headers pass) and never hears an
 * event on it, so whatever it learns of a change between reconciles comes from podman's
 * events file.
 */
async function eventsMuted(engineSocket: string, path: string): Promise<Server> {
  const server = createServer((agentSide: Socket) => {
    const engineSide = connect(engineSocket);
    let events: boolean | undefined;
    let head = '';
    let headDone = false;
    agentSide.on('data', (chunk: Buffer) => {
      events ??= /^GET \S*\/events[?\s]/.test(chunk.toString('latin1', 0, 200));
      engineSide.write(chunk);
    });
    engineSide.on('data', (chunk: Buffer) => {
      if (!events) return void agentSide.write(chunk);
      if (headDone) return;
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headDone = true;
      agentSide.write(Buffer.from(head.slice(0, end + 4), 'latin1'));
    });
    const close = () => {
      agentSide.destroy();
      engineSide.destroy();
    };
    for (const s of [agentSide, engineSide]) s.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return server;
}

/**
 * Issue #15: the agent as it ships, on a real podman 4.3 with `events_logger = "file"`,
 * reading podman's events file itself (`engine.events_file`). Two hosts on the same
 * engine: `muted`, whose /events stream carries nothing (the file is all it hears), and
 * `both`, which hears every event twice, from the file and from the stream. A critical
 * container is started, killed and started again: on both hosts the retained states follow
 * in order and end with the engine's own details, no state is published twice in a row,
 * and the outage is one alert and one recovery. The reconcile that would repair anything
 * is an hour away.
 */
/** What each suite below starts, stopped in reverse (any part may not have started). */
async function tearDown(s: {
  client: MqttClient | undefined;
  agent: AgentProcess | undefined;
  muted: Server | undefined;
  engine: ContainerEngine | undefined;
  mutedDir: string | undefined;
}): Promise<void> {
  await s.client?.endAsync(true);
  await s.agent?.cleanup();
  if (s.muted) await new Promise((r) => s.muted!.close(r));
  await s.engine?.stop();
  if (s.mutedDir) await removeTempDir(s.mutedDir);
}

describe('podman’s events file read by the agent', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let muted: Server;
  let mutedDir: string;
  let url: string;
  let client: MqttClient | undefined;
  const topic = (host: string) => `outpost/edge/hosts/${host}/containers/flip`;

  beforeAll(async () => {
    engine = await startPodman({ eventsLogger: 'file' });
    mutedDir = await makeTempDir('podman-muted');
    muted = await eventsMuted(engine.socketPath, join(mutedDir, 'engine.sock'));
    const eventsFile = join(engine.dir, 'events.log');
    ({ agent, url } = await spawnEdgeAgent(
      () => `hosts:
  - id: muted
    engine: { socket: ${join(mutedDir, 'engine.sock')}, events_file: ${eventsFile} }
    critical: [flip]
  - id: both
    engine: { socket: ${engine.socketPath}, events_file: ${eventsFile} }
    critical: [flip]
containers: { reconcile_every: 1h, down_after: 2s, stable_after: 2s }
`,
    ));
  }, 180_000);

  afterAll(() => tearDown({ client, agent, muted, engine, mutedDir }));

  async function eventsOf(subject: string): Promise<StoredEvent[]> {
    const store = SqliteEventStore.open({
      dataDir: `${agent.dir}/data`,
      node: 'edge',
      readonly: true,
    });
    try {
      return (await store.query({ limit: 1000 })).filter((e) => e.subject === subject);
    } finally {
      await store.close();
    }
  }
  const typesOf = async (host: string) => (await eventsOf(`${host}/flip`)).map((e) => e.type);

  it('follows start → kill → start from the file alone, once per change', async () => {
    const act = new EngineActions(engine.socketPath, engine.imageRef);
    const id = await act.run('flip', { start: false });
    const hosts = ['muted', 'both'];
    // The container is created before the agent heard of it: the reconcile after the
    // stream's connect listed nothing, so even `created` comes off the file's `create`.
    await pollUntil(
      () => retained(url, 'outpost/edge/hosts/+/containers/flip'),
      (m) => hosts.every((h) => (JSON.parse(m.get(topic(h)) ?? '{}') as State).state === 'created'),
      'both hosts to show flip created',
      60_000,
    );
    client = await observer(url);
    const seen = await new Collector(client).subscribe('outpost/edge/hosts/+/containers/flip');
    const stateOf = (h: string) => (JSON.parse(seen.last(topic(h)) ?? '{}') as State).state;
    const all = (state: string) => () => hosts.every((h) => stateOf(h) === state);

    await act.post(id, 'start');
    await seen.waitFor(all('running'), 'running on both hosts', 60_000);
    await act.post(id, 'kill');
    await seen.waitFor(all('exited'), 'exited on both hosts', 60_000);
    for (const h of hosts) {
      await pollUntil(
        () => typesOf(h),
        (t) => t.includes('container_down'),
        `${h}: alert`,
      );
    }
    await act.post(id, 'start');
    const { State: truth } = await act.inspect(id);
    for (const h of hosts) {
      await pollUntil(
        () => typesOf(h),
        (t) => t.includes('container_recovered'),
        `${h}: recovery`,
        60_000,
      );
      await seen.waitFor(
        () => (JSON.parse(seen.last(topic(h)) ?? '{}') as State).started_at === truth.StartedAt,
        `${h}: the second run's start time`,
        60_000,
      );
    }

    for (const h of hosts) {
      const payloads = seen.messages.filter((m) => m.topic === topic(h)).map((m) => m.payload);
      const states = payloads.map((p) => JSON.parse(p) as State);
      const order = states.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]);
      expect(order, h).toEqual(['created', 'running', 'exited', 'running']);
      for (const s of states.filter((s) => s.state === 'exited')) expect(s.exit_code).toBe(137);
      // Heard twice (file and stream) or once: never published twice alike.
      payloads.forEach((p, i) => expect(p === payloads[i - 1], `${h}: ${p}`).toBe(false));
      expect(states.at(-1)).toMatchObject({ state: 'running', started_at: truth.StartedAt });
      // One outage: one alert, one recovery.
      const types = await typesOf(h);
      expect(
        types.filter((t) => t === 'container_down'),
        h,
      ).toHaveLength(1);
      expect(
        types.filter((t) => t === 'container_recovered'),
        h,
      ).toHaveLength(1);
    }
  }, 240_000);
});

/**
 * podman rotating its events file under the agent (`events_logfile_max_size`, here 4 KiB:
 * every ~20 lines), with the stream muted again: every state still comes off the file,
 * the event whose write made podman rotate included (the agent reads on after podman's
 * rotation line), and nothing of the copied half comes back.
 */
describe('podman’s events file read by the agent while podman rotates it', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let muted: Server;
  let mutedDir: string;
  let url: string;
  let client: MqttClient | undefined;
  const topic = 'outpost/edge/hosts/muted/containers/spin';

  beforeAll(async () => {
    engine = await startPodman({ eventsLogger: 'file', eventsMaxSize: '4k' });
    mutedDir = await makeTempDir('podman-muted');
    muted = await eventsMuted(engine.socketPath, join(mutedDir, 'engine.sock'));
    ({ agent, url } = await spawnEdgeAgent(
      () => `hosts:
  - id: muted
    engine: { socket: ${join(mutedDir, 'engine.sock')}, events_file: ${join(engine.dir, 'events.log')} }
containers: { reconcile_every: 1h }
`,
    ));
  }, 180_000);

  afterAll(() => tearDown({ client, agent, muted, engine, mutedDir }));

  it('follows every kill and start across rotations', async () => {
    const act = new EngineActions(engine.socketPath, engine.imageRef);
    client = await observer(url);
    const seen = await new Collector(client).subscribe(topic);
    const id = await act.run('spin');
    const state = () => (JSON.parse(seen.last(topic) ?? '{}') as State).state;
    await seen.waitFor(() => state() === 'running', 'spin running', 60_000);
    const cycles = 10;
    for (let i = 0; i < cycles; i++) {
      await act.post(id, 'kill');
      await seen.waitFor(() => state() === 'exited', `cycle ${i + 1}: exited`, 60_000);
      await act.post(id, 'start');
      await seen.waitFor(() => state() === 'running', `cycle ${i + 1}: running`, 60_000);
    }
    const rotations = agent.output().match(/podman events file rotated/g) ?? [];
    expect(rotations.length).toBeGreaterThanOrEqual(2);
    expect(agent.output()).toContain('reading on from after its rotation line');
    // In order, each change once: no line of a copied half came back as news.
    const states = seen.messages.map((m) => (JSON.parse(m.payload) as State).state);
    const order = states.filter((s, i) => s !== states[i - 1]);
    expect(order).toEqual([
      ...(order[0] === 'created' ? ['created'] : []),
      'running',
      ...Array.from({ length: cycles }, () => ['exited', 'running']).flat(),
    ]);
    // The event's state goes out at once with the event's time; the inspect after it brings
    // the engine's own start time (to the ns) a moment later.
    const { State: truth } = await act.inspect(id);
    await seen.waitFor(
      () => (JSON.parse(seen.last(topic) ?? '{}') as State).started_at === truth.StartedAt,
      "the last run's start time, from the inspect",
      60_000,
    );
  }, 240_000);
});
