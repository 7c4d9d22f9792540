import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { observer } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { RawSubscriber } from '../../helpers/raw-subscriber.js';

const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface AgentEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

/** `n` messages of 64 KiB to flood/…, at QoS 1: resolves once the broker took them all. */
async function flood(pub: MqttClient, n: number): Promise<void> {
  const big = Buffer.alloc(64 * 1024, 'x');
  await Promise.all(
    Array.from({ length: n }, (_, i) => pub.publishAsync(`flood/${i}`, big, { qos: 1 })),
  );
}

/**
 * Issue #13, point 4, with the agent as it ships: a subscriber that stops reading holds up
 * neither the agent's events to another client nor anything else, and once its queue
 * overflows it is disconnected, logged and recorded.
 */
describe('a running agent with a frozen subscriber on its broker', () => {
  it('keeps its events prompt for another client, then drops the frozen one and records it', async () => {
    const port = await getFreePort();
    const agent: AgentProcess = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${port}"
  drain_timeout: 300s
  client_queue: 16MiB
  users: [{ username: dash, password: pw }]
`,
    );
    cleanups.push(() => agent.cleanup());
    await agent.running();
    const url = `mqtt://127.0.0.1:${port}`;

    // A dashboard that subscribed to everything, then stopped reading.
    const stuck = await RawSubscriber.connect(port, {
      clientId: 'dash-1',
      filter: '#',
      qos: 1,
      username: 'dash',
      password: 'pw',
    });
    cleanups.push(() => stuck.destroy());
    stuck.freeze();

    const watcher = await observer(url);
    cleanups.push(() => watcher.endAsync());
    const events: { event: AgentEvent }[] = [];
    watcher.on('message', (_topic, payload) =>
      events.push({ event: JSON.parse(payload.toString()) as AgentEvent }),
    );
    await watcher.subscribeAsync('outpost/edge/events', { qos: 1 });
    const pub = await observer(url);
    cleanups.push(() => pub.endAsync());

    // 10 MiB waits for it: more than the kernel's socket buffers hold, less than its queue.
    await flood(pub, 160);

    // The agent's own events meanwhile: each connection taking the agent's client id is
    // refused and recorded (mqtt_client_refused), stored, then published by the agent.
    // Each arrives while the stuck dashboard is still attached (the broker would drop it
    // only at drain_timeout): it holds up none of them. How fast is the bench's business.
    for (let i = 1; i <= 5; i++) {
      await expect(observer(url, { clientId: 'outpost-edge' })).rejects.toThrow();
      const refused = () => events.filter((e) => e.event.type === 'mqtt_client_refused');
      await eventually(() => expect(refused()).toHaveLength(i), { timeout: 120_000 });
    }
    expect(events.filter((e) => e.event.type === 'mqtt_client_dropped')).toEqual([]);

    // Past its 16 MiB: disconnected, logged and recorded with who it was.
    await flood(pub, 160);
    await eventually(
      () =>
        expect(events.map((e) => e.event)).toContainEqual(
          expect.objectContaining({
            type: 'mqtt_client_dropped',
            subject: 'mqtt/dash-1',
            data: expect.objectContaining({
              client_id: 'dash-1',
              user: 'dash',
              reason: expect.stringMatching(/^its queue passed broker\.client_queue/),
            }),
          }),
        ),
      { timeout: 20_000 },
    );
    const log = agent
      .output()
      .split('\n')
      .filter((l) => l.includes('disconnecting a client that does not read'));
    expect(log).toEqual([expect.stringMatching(/"clientId":"dash-1","user":"dash"/)]);
  });
});
