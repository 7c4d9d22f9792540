import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { observer, retained, pollUntil } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { EngineActions } from '../containers/helpers.js';

/**
 * The human in the loop from Home Assistant, end to end through the agent process and a
 * real dockerd: a restart that needs approval shows approve / reject buttons; pressing
 * approve (publishing the button's payload_press to its command_topic, as HA does) runs
 * the restart, and the buttons go away.
 */
describe('approving a restart from a Home Assistant button', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let url: string;

  beforeAll(async () => {
    engine = await startDockerd();
    await new EngineActions(engine.socketPath, engine.imageRef).run('db');
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker: { listen: "127.0.0.1:${port}" }
hosts:
  - id: local
    engine: { socket: ${engine.socketPath} }
policy:
  - { action: restart_container, target: "local/*", decision: approve }
`,
    );
    await agent.running(20_000);
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await engine?.stop();
  });

  it('shows the restart button (policy allows it), then approve buttons for the pending action', async () => {
    const restartButton = 'homeassistant/button/outpost_edge/local_container_db_restart/config';
    const configs = await pollUntil(
      () => retained(url, 'homeassistant/button/#'),
      (m) => m.has(restartButton),
      'the container restart button',
    );
    const restart = JSON.parse(configs.get(restartButton)!) as {
      command_topic: string;
      payload_press: string;
    };
    const ha = await observer(url);
    await ha.publishAsync(restart.command_topic, restart.payload_press, { qos: 1 });

    const pending = await pollUntil(
      () => retained(url, 'homeassistant/button/#'),
      (m) => [...m.keys()].some((t) => t.endsWith('_approve/config')),
      'the approve button',
    );
    const approveTopic = [...pending.keys()].find((t) => t.endsWith('_approve/config'))!;
    const approve = JSON.parse(pending.get(approveTopic)!) as {
      name: string;
      command_topic: string;
      payload_press: string;
    };
    expect(approve.name).toBe('Approve restart container local/db');
    expect(approve.command_topic).toBe('outpost/edge/cmd/approve');
    const actionId = (JSON.parse(approve.payload_press) as { target: string }).target;

    await ha.publishAsync(approve.command_topic, approve.payload_press, { qos: 1 });
    const done = await pollUntil(
      () => retained(url, `outpost/edge/actions/${actionId}`),
      (m) =>
        ['completed', 'failed'].includes(
          (JSON.parse(m.get(`outpost/edge/actions/${actionId}`) ?? '{}') as { status?: string })
            .status ?? '',
        ),
      'the action to finish',
    );
    expect(JSON.parse(done.get(`outpost/edge/actions/${actionId}`)!)).toMatchObject({
      status: 'completed',
    });
    await pollUntil(
      () => retained(url, 'homeassistant/button/#'),
      (m) => ![...m.keys()].some((t) => t.includes(actionId)),
      'the approve and reject buttons to go',
    );
    await ha.endAsync();
  });
});
