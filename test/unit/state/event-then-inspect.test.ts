import { describe, expect, it } from 'vitest';
import { stateFromEvent } from '../../../src/collectors/containers/event-state.js';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { EngineEvent } from '../../../src/hosts/engine-events.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import type { ContainerView } from '../../../src/state/container-view.js';
import type { ContainerEvent } from '../../../src/state/events.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-22T00:00:00Z');
const ID = 'ab12cd34ef56ab12cd34ef56';

const running: ContainerObservation = {
  host: 'nas',
  key: 'db',
  id: ID,
  name: 'db',
  image: 'postgres:16',
  state: 'running',
  health: 'none',
  exitCode: null,
  restartCount: 0,
  startedAt: '2026-11-21T00:00:00.123456789Z',
  finishedAt: null,
  uptimeMs: 1000,
  oomKilled: false,
  error: null,
  labels: {},
  critical: true,
  observedAt: T0,
};

/**
 * Each transition reaches the tracker twice now: first as the state read off its event,
 * then as its inspect with the engine's exact times (issue #15). Alerts, restart counts and
 * what remediation hears (the views) must still see it once.
 */
describe('a state read off an event, then its inspect', () => {
  it('is one transition for alerts and one state change for the views', () => {
    const clock = new ManualClock(T0);
    const events: ContainerEvent[] = [];
    const views: ContainerView[] = [];
    const tracker = new ContainerTracker({
      clock,
      log: silentLogger(),
      downAfterMs: 5 * MIN,
      cooldownMs: 30 * MIN,
      stableAfterMs: 2 * MIN,
      onEvent: (e) => events.push(e),
      onContainer: (_h, _k, v) => v && views.push(v),
    });
    const feed = (o: ContainerObservation, action: string) =>
      tracker.apply({
        kind: 'container',
        host: 'nas',
        container: o,
        cause: { action, timeNano: clock.now() * 1e6, receivedAt: clock.now() },
      });
    const at = (action: string, extra: Partial<EngineEvent> = {}): EngineEvent => ({
      id: ID,
      action,
      timeNano: clock.now() * 1e6,
      receivedAt: clock.now(),
      ...extra,
    });
    tracker.apply({ kind: 'snapshot', host: 'nas', containers: [running], at: T0 });

    clock.advance(1000);
    const died = stateFromEvent(running, at('die', { exitCode: 137 }), clock.now())!;
    feed(died, 'die');
    const exited = {
      ...died,
      finishedAt: '2026-11-22T00:00:00.998877665Z',
      restartCount: 0,
      observedAt: clock.now() + 5,
    };
    feed(exited, 'die');
    clock.advance(5 * MIN);
    expect(events.map((e) => e.type)).toEqual(['container_down']);

    const started = stateFromEvent(exited, at('start'), clock.now())!;
    feed(started, 'start');
    feed({ ...started, startedAt: '2026-11-22T00:05:00.996Z', restartCount: 1 }, 'start');
    clock.advance(2 * MIN);
    expect(events.map((e) => e.type)).toEqual(['container_down', 'container_recovered']);
    expect(events[0]).toMatchObject({ data: { exit_code: 137 } });

    const states = views.map((v) => v.observation.state);
    expect(states.filter((s, i) => s !== states[i - 1])).toEqual(['running', 'exited', 'running']);
    const alerts = views.map((v) => v.alert);
    expect(alerts.filter((a, i) => a !== alerts[i - 1])).toEqual(['ok', 'down', 'ok']);
  });
});
