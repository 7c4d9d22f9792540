import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnEdgeAgent, type AgentProcess } from '../../helpers/agent.js';
import {
  startDockerd,
  startPodman,
  type ContainerEngine,
} from '../../helpers/container-engines.js';
import { eventually } from '../../helpers/eventually.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { EngineActions } from './helpers.js';

interface State {
  state: string;
  exit_code: number | null;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * The agent as it ships, on a real engine, with a container started, killed and started
 * again as fast as the engine's API answers (issue #15): the states come first from the
 * events themselves, then from the inspects that follow, and an inspect that predates a
 * newer event must never put an older state back. Only the event path runs: the reconcile
 * that would repair a wrong state is an hour away.
 */
describe.each([
  ['dockerd', startDockerd],
  ['podman', startPodman],
] as const)('retained container state on %s through start → kill → start', (_, start) => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let url: string;
  let client: MqttClient | undefined;
  const topic = 'outpost/edge/hosts/local/containers/flip';

  beforeAll(async () => {
    engine = await start();
    ({ agent, url } = await spawnEdgeAgent(
      () => `hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
containers: { reconcile_every: 1h }
`,
    ));
  }, 180_000);

  afterAll(async () => {
    await client?.endAsync(true);
    await agent?.cleanup();
    await engine?.stop();
  });

  it('follows every transition in order and ends with the engine’s own details', async () => {
    const act = new EngineActions(engine.socketPath, engine.imageRef);
    const id = await act.run('flip', { start: false });
    await eventually(
      async () => {
        const s = (await retained(url, topic)).get(topic);
        expect(s && (JSON.parse(s) as State).state).toBe('created');
      },
      { timeout: 60_000 },
    );
    client = await observer(url);
    const seen = await new Collector(client).subscribe(topic);
    await eventually(() => expect(seen.messages.length).toBeGreaterThan(0));

    await act.post(id, 'start');
    await act.post(id, 'kill');
    await act.post(id, 'start');

    const { State: truth } = await act.inspect(id);
    // The last state is the engine's after the second start, to the inspect's own strings.
    await eventually(
      () => {
        const last = JSON.parse(seen.last(topic) ?? '{}') as State;
        expect(last).toMatchObject({
          state: 'running',
          started_at: truth.StartedAt,
          finished_at: truth.FinishedAt,
        });
      },
      { timeout: 60_000 },
    );
    const states = seen.messages.map((m) => JSON.parse(m.payload) as State);
    const order = states.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]);
    // In the engine's order, with nothing going back. A state may be skipped: an inspect
    // can run ahead of podman's late lines, and a line older than what it showed is not
    // replayed.
    const engineOrder = ['created', 'running', 'exited', 'running'];
    let at = 0;
    for (const s of order) {
      at = engineOrder.indexOf(s, at) + 1;
      expect(at, `states ${order.join(' → ')}`).toBeGreaterThan(0);
    }
    for (const s of states.filter((s) => s.state === 'exited')) expect(s.exit_code).toBe(137);
    // Once the second run is seen, no state of the first run comes back.
    const second = states.findIndex((s) => s.started_at === truth.StartedAt);
    const firstStart = states.find((s) => s.state === 'running')!.started_at;
    expect(states.slice(second).some((s) => s.started_at === firstStart)).toBe(false);
    expect(JSON.parse((await retained(url, topic)).get(topic)!)).toMatchObject({
      state: 'running',
      started_at: truth.StartedAt,
    });
  }, 180_000);
});
