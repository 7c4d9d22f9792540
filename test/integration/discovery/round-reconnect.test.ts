import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDevices } from '../../../discovery/model.js';
import { DiscoveryPublisher, type SyncResult } from '../../../discovery/publisher.js';
import { SqliteDiscoveryRegistry } from '../../../discovery/registry.js';
import type { DiscoveryContext } from '../../../discovery/entity.js';
import { systemClock } from '../../../src/core/clock.js';
import type { MqttLink } from '../../../src/mqtt/client.js';
import type { MqttPublisher, PublishOptions } from '../../../src/mqtt/types.js';
import { modelOf, type HostSpec } from '../../helpers/discovery-site.js';
import { startEmbeddedBroker, type TestBroker } from '../../helpers/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { link, retained } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/** Sends the agent has awaiting their acknowledgement at most. */
const WINDOW = 16;

const ctx: DiscoveryContext = {
  prefix: 'homeassistant',
  root: { base: 'outpost', node: 'edge' },
  origin: { name: 'outpost', sw_version: '0.1.0' },
};

function site(hosts: number, containers: number) {
  const specs: HostSpec[] = Array.from({ length: hosts }, (_, h) => ({
    id: `h${h}`,
    name: `Host ${h}`,
    remote: true,
    watchesContainers: true,
    containers: Array.from({ length: containers }, (_, c) => ({ name: `c${h}-${c}` })),
  }));
  return modelOf({
    agent: { node: 'edge', name: 'Edge', swVersion: '0.1.0' },
    hosts: specs,
  });
}

/**
 * The agent's link drops while a discovery round is sending (the bug the 20,000-container
 * bench found: discovery stopped for good at 746 configs). The broker is restarted under
 * the round, on the same port and data, as a crashed or restarted broker would be.
 */
describe('a discovery round cut off by a dropped link', () => {
  let dir: string;
  let port: number;
  let broker: TestBroker | undefined;
  let proxy: TcpProxy | undefined;
  let agentLink: MqttLink | undefined;
  let publisher: DiscoveryPublisher | undefined;

  const startBroker = async () =>
    (broker = await startEmbeddedBroker({
      dataDir: join(dir, 'broker'),
      yaml: `broker: { listen: "127.0.0.1:${port}" }`,
    }));

  beforeEach(async () => {
    dir = await makeTempDir('round-reconnect');
    port = await getFreePort();
    await startBroker();
    proxy = await startTcpProxy(port);
  });

  afterEach(async () => {
    await publisher?.stop();
    await agentLink?.stop();
    await proxy?.stop();
    await broker?.broker.stop();
    await removeTempDir(dir);
  });

  it('resumes after the reconnect: every config reaches a fresh subscriber, acknowledged ones are not sent again', async () => {
    const model = site(8, 12);
    const expected = new Map<string, string>();
    for (const d of modelDevices(ctx, model))
      for (const c of d.build()) expected.set(c.topic, JSON.stringify(c.payload));

    const endpoint = broker!.broker.localEndpoint();
    agentLink = link({
      url: `mqtt://127.0.0.1:${proxy!.port}`,
      username: endpoint.username,
      password: endpoint.password,
      clientId: 'outpost-edge',
      availabilityTopic: 'outpost/edge/availability',
      queueLimit: 10_000,
    });
    await agentLink.start();
    // What the broker acknowledged to the agent, and every send, per topic: the real link
    // underneath, only counted.
    const acked = new Set<string>();
    const sends = new Map<string, number>();
    const real = agentLink;
    const inFlight = () => [...sends.values()].reduce((a, b) => a + b, 0) - acked.size;
    const mqtt: MqttPublisher = {
      publish: async (topic: string, payload: string | Buffer, opts?: PublishOptions) => {
        sends.set(topic, (sends.get(topic) ?? 0) + 1);
        await real.publish(topic, payload, opts);
        acked.add(topic);
      },
      subscribe: real.subscribe.bind(real),
      onConnect: real.onConnect.bind(real),
      get connected() {
        return real.connected;
      },
    };
    const registry = await SqliteDiscoveryRegistry.open(join(dir, 'discovery.db'));
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    publisher = new DiscoveryPublisher({
      mqtt,
      registry,
      desired: () => ({ devices: modelDevices(ctx, model) }),
      clock: systemClock,
      log,
      prefix: 'homeassistant',
      node: 'edge',
      rate: 150,
      inFlight: WINDOW,
    });
    const first: Promise<SyncResult> = publisher.sync({ observationOk: true });
    // A third of the way in, the link goes silent until a window of sends waits for its
    // acknowledgement, then drops: those sends are the ones the round loses.
    await eventually(() => expect(acked.size).toBeGreaterThan(expected.size / 3));
    proxy!.silence();
    await eventually(() => expect(inFlight()).toBe(WINDOW));
    const before = new Set(acked);
    proxy!.cut();
    const result = await first;
    expect(result.failed).toBe(WINDOW);
    // The round that was cut off is redone once the link is back, without another trigger.
    await eventually(
      async () => {
        const now = await retained(broker!.url, 'homeassistant/#');
        for (const [topic, payload] of expected) expect(now.get(topic), topic).toBe(payload);
      },
      { timeout: 60_000, interval: 500 },
    );
    // An acknowledged config is recorded: none goes out again (the link's in-flight
    // window at the drop is all QoS 1 may repeat).
    const again = [...before].filter((t) => (sends.get(t) ?? 0) > 1);
    expect(again.length).toBeLessThanOrEqual(WINDOW);
    // A later round (queued behind the redo) has nothing left to do, and the registry
    // holds every config.
    const later = await publisher.sync({ observationOk: true });
    expect(later).toEqual({ published: 0, removed: 0, clearedStates: 0, held: 0, failed: 0 });
    expect(new Set(registry.list().map(([t]) => t))).toEqual(new Set(expected.keys()));
  }, 120_000);
});
