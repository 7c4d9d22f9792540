import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { EventBus } from '../../../src/core/event-bus.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ActionStep, AgentEvents } from '../../../src/state/bus-events.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { build, message, type Built } from './harness.js';

const START = Date.parse('2026-01-01T00:00:00Z');

/**
 * Remediation tells the bus when an action starts running and when it ends (`action`):
 * the Home Assistant bridge opens its restart window on it. Only actions that run are
 * told, after their decision; one held for approval or refused is not.
 */
describe("an action's steps on the agent's bus", () => {
  let dir: string;
  let b: Built | undefined;
  let steps: ActionStep[];

  const start = async (decision: 'allow' | 'approve' | 'deny') => {
    const bus = new EventBus<AgentEvents>(silentLogger());
    steps = [];
    bus.on('test', 'action', (s) => steps.push(s));
    b = await build({
      dir,
      clock: new ManualClock(START),
      bus,
      config: {
        policy: [{ action: '*', target: 'local/*', decision }],
        broker: { users: [{ username: 'boss', password: 'pw' }] },
        remediation: { approvers: ['boss'], action_timeout: '60s', verify_timeout: '30s' },
      },
    });
    await b.rem.start();
    return b;
  };
  const send = (action: string, payload: unknown) =>
    b!.rem.router.handle(message(action, payload, { sender: 'ops' }));

  beforeEach(async () => {
    dir = await makeTempDir('action-steps');
  });
  afterEach(async () => {
    await b?.rem.stop();
    b = undefined;
    await removeTempDir(dir);
  });

  it('tells running, with the deadline, then completed', async () => {
    await start('allow');
    await send('restart_container', { id: 'r1', target: 'local/homeassistant' });
    expect(steps).toEqual([
      {
        id: 'r1',
        action: 'restart_container',
        target: 'local/homeassistant',
        status: 'running',
        origin: 'mqtt',
        // action_timeout + verify_timeout + 5 s: the runner's own deadline.
        until: START + 95_000,
      },
      {
        id: 'r1',
        action: 'restart_container',
        target: 'local/homeassistant',
        status: 'completed',
        origin: 'mqtt',
      },
    ]);
  });

  it('tells failed when the executor failed', async () => {
    const built = await start('allow');
    built.exec.outcome = () => Promise.resolve({ ok: false, message: 'exit code 3' });
    await send('stop_container', { id: 's1', target: 'local/homeassistant' });
    expect(steps.map((s) => [s.id, s.action, s.status])).toEqual([
      ['s1', 'stop_container', 'running'],
      ['s1', 'stop_container', 'failed'],
    ]);
  });

  it('tells nothing of an action refused or waiting for approval', async () => {
    await start('deny');
    await send('restart_container', { id: 'd1', target: 'local/homeassistant' });
    await b!.rem.stop();
    await start('approve');
    await send('restart_container', { id: 'p1', target: 'local/homeassistant' });
    expect(b!.rem.api.pending().map((a) => a.id)).toEqual(['p1']);
    expect(steps).toEqual([]);
  });
});
