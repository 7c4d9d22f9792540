import { beforeEach, describe, expect, it } from 'vitest';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import { EventBus } from '../../../src/core/event-bus.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ActionStep, AgentBus, AgentEvents } from '../../../src/state/bus-events.js';
import { listenForContainerRestarts } from '../../../bridges/home-assistant/restart-signals.js';
import { RestartWindow } from '../../../bridges/home-assistant/restart-window.js';
import { containerView } from '../commands/container-view.js';

const GRACE = 60_000;

describe('the restart window', () => {
  it('is shut until something opens it', () => {
    const w = new RestartWindow(GRACE);
    expect(w.active(0)).toBe(false);
    expect(w.active(Date.now())).toBe(false);
  });

  it("holds a stop for the grace only, and the grace again after HA's start", () => {
    const w = new RestartWindow(GRACE);
    w.stopping(1_000);
    expect(w.active(1_000)).toBe(true);
    expect(w.active(1_000 + GRACE - 1)).toBe(true);
    expect(w.active(1_000 + GRACE)).toBe(false);
    w.started(100_000);
    expect(w.active(100_000 + GRACE - 1)).toBe(true);
    expect(w.active(100_000 + GRACE)).toBe(false);
  });

  it('gives a start without a stop before it nothing', () => {
    const w = new RestartWindow(GRACE);
    w.started(1_000);
    expect(w.active(1_000)).toBe(false);
    w.stopping(2_000);
    w.started(3_000);
    w.started(50_000); // the second start: no stop before it
    expect(w.active(3_000 + GRACE - 1)).toBe(true);
    expect(w.active(3_000 + GRACE)).toBe(false);
  });

  it('holds a reload for the grace', () => {
    const w = new RestartWindow(GRACE);
    w.reloading(5_000);
    expect(w.active(5_000 + GRACE - 1)).toBe(true);
    expect(w.active(5_000 + GRACE)).toBe(false);
  });

  it("covers outpost's own action up to its deadline, then the grace after it ended", () => {
    const w = new RestartWindow(GRACE);
    const deadline = 1_000 + 10 * GRACE;
    w.actionStarted(1_000, deadline);
    // Longer than the grace: a slow stop is still the action, not an outage.
    expect(w.active(1_000 + 3 * GRACE)).toBe(true);
    expect(w.active(deadline - 1)).toBe(true);
    expect(w.active(deadline)).toBe(false);
    // Ended before its deadline: the grace from its end, the deadline no longer holds it.
    w.actionEnded(1_000 + 3 * GRACE);
    expect(w.active(1_000 + 4 * GRACE - 1)).toBe(true);
    expect(w.active(1_000 + 4 * GRACE)).toBe(false);
  });

  it('gives a quick action the grace after it ended, and the reconnect after it the grace again', () => {
    const w = new RestartWindow(GRACE);
    w.actionStarted(1_000, 2_000);
    w.actionEnded(1_500);
    expect(w.active(1_500 + GRACE - 1)).toBe(true);
    expect(w.active(1_500 + GRACE)).toBe(false);
    w.started(30_000); // the bridge reconnected: HA is back
    expect(w.active(30_000 + GRACE - 1)).toBe(true);
    expect(w.active(30_000 + GRACE)).toBe(false);
  });

  it("never shortens a window HA's own events opened", () => {
    const w = new RestartWindow(GRACE);
    w.stopping(0);
    w.started(5 * GRACE);
    w.actionStarted(GRACE, 2 * GRACE);
    w.actionEnded(GRACE + 1);
    expect(w.active(6 * GRACE - 1)).toBe(true);
    expect(w.active(6 * GRACE)).toBe(false);
  });
});

describe("the restart signals on the agent's bus", () => {
  let bus: AgentBus;
  let window: RestartWindow;
  let now: number;
  let changes: number;

  const step = (over: Partial<ActionStep>): ActionStep => ({
    id: 'a1',
    action: 'restart_container',
    target: 'local/homeassistant',
    status: 'running',
    origin: 'mqtt',
    until: now + 10 * GRACE,
    ...over,
  });
  const seen = (over: Partial<ContainerObservation>) => {
    const v = containerView('homeassistant', 'running');
    bus.emit('container', {
      host: 'local',
      key: 'homeassistant',
      view: { ...v, observation: { ...v.observation, ...over } },
      first: false,
    });
  };

  beforeEach(() => {
    bus = new EventBus<AgentEvents>(silentLogger());
    window = new RestartWindow(GRACE);
    now = 1_000_000;
    changes = 0;
    listenForContainerRestarts({
      bus,
      target: 'local/homeassistant',
      window,
      now: () => now,
      log: silentLogger(),
      changed: () => changes++,
    });
  });

  it("opens when outpost's restart of HA's container starts, before anything is seen of it", () => {
    bus.emit('action', step({}));
    expect(window.active(now)).toBe(true);
    expect(changes).toBe(1);
    now += 5 * GRACE;
    expect(window.active(now)).toBe(true);
    bus.emit('action', step({ status: 'completed', until: undefined }));
    expect(window.active(now + GRACE - 1)).toBe(true);
    expect(window.active(now + GRACE)).toBe(false);
  });

  it('keeps the grace after a failed restart too, and opens for a stop', () => {
    bus.emit('action', step({ action: 'stop_container', until: now + 1 }));
    bus.emit('action', step({ action: 'stop_container', status: 'failed', until: undefined }));
    expect(window.active(now + GRACE - 1)).toBe(true);
  });

  it("ignores another container's actions, other actions, and self-healing's restarts", () => {
    bus.emit('action', step({ target: 'local/db' }));
    bus.emit('action', step({ action: 'run_backup' }));
    bus.emit('action', step({ origin: 'self_heal' }));
    expect(window.active(now)).toBe(false);
    expect(changes).toBe(0);
  });

  it('opens when the monitor sees a new start time without a crash restart counted', () => {
    seen({ startedAt: '2026-12-07T00:00:00Z', restartCount: 0 });
    expect(window.active(now)).toBe(false); // the first view: nothing to compare
    seen({ startedAt: '2026-12-07T00:05:00Z', restartCount: 0 });
    expect(window.active(now + GRACE - 1)).toBe(true);
    expect(changes).toBe(1);
  });

  it('stays shut for a crash restart (the count went up) and an unclean exit', () => {
    seen({ startedAt: '2026-12-07T00:00:00Z', restartCount: 0 });
    seen({ startedAt: '2026-12-07T00:05:00Z', restartCount: 1 });
    seen({ state: 'exited', exitCode: 137, startedAt: '2026-12-07T00:05:00Z', restartCount: 1 });
    expect(window.active(now)).toBe(false);
    expect(changes).toBe(0);
  });

  it('opens for a clean stop seen by the monitor', () => {
    seen({ startedAt: '2026-12-07T00:00:00Z' });
    seen({ state: 'exited', exitCode: 0, startedAt: '2026-12-07T00:00:00Z' });
    expect(window.active(now + GRACE - 1)).toBe(true);
  });
});
