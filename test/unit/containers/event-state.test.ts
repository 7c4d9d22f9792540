import { describe, expect, it } from 'vitest';
import {
  inspectSupersedes,
  stateFromEvent,
} from '../../../src/collectors/containers/event-state.js';
import { observe } from '../../../src/collectors/containers/normalize.js';
import { ContainerSelector } from '../../../src/collectors/containers/selection.js';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import type { EngineEvent } from '../../../src/hosts/engine-events.js';
import { parseInspectOne } from '../../../src/hosts/inspect-schema.js';
import { DOCKER_ID, dockerApiRecord } from './fixtures.js';

const NOW = Date.parse('2026-11-22T02:00:00Z');
const ns = (iso: string) => Date.parse(iso) * 1e6;

/** The docker fixture (running since 01:54:13.403, unhealthy) with its State changed. */
function observed(state: Record<string, unknown> = {}): ContainerObservation {
  const base = dockerApiRecord();
  const record = { ...base, State: { ...(base.State as object), ...state } };
  return observe('local', parseInspectOne(record, 'test'), new ContainerSelector({}), NOW)!;
}

const running = observed();
const exited = observed({
  Status: 'exited',
  Running: false,
  ExitCode: 137,
  FinishedAt: '2026-11-22T01:58:00.5Z',
});

function event(action: string, iso: string, extra: Partial<EngineEvent> = {}): EngineEvent {
  return { id: DOCKER_ID, action, timeNano: ns(iso), receivedAt: NOW, ...extra };
}

describe('the state an engine event says', () => {
  it('die: exited, with the exit code the event carries, finished at the event', () => {
    const o = stateFromEvent(
      running,
      event('die', '2026-11-22T01:59:00.25Z', { exitCode: 3 }),
      NOW,
    );
    expect(o).toMatchObject({
      state: 'exited',
      exitCode: 3,
      finishedAt: '2026-11-22T01:59:00.250Z',
      startedAt: running.startedAt,
      uptimeMs: null,
      image: 'busybox:test',
    });
  });

  it('start: running from the event’s time, its healthcheck starting over', () => {
    const o = stateFromEvent(exited, event('start', '2026-11-22T01:59:30Z'), NOW);
    expect(o).toMatchObject({
      state: 'running',
      startedAt: '2026-11-22T01:59:30.000Z',
      finishedAt: '2026-11-22T01:58:00.5Z',
      exitCode: 0,
      health: 'starting',
      oomKilled: false,
    });
  });

  it('pause, unpause, oom and a health result change only what they name', () => {
    const paused = stateFromEvent(running, event('pause', '2026-11-22T01:59:00Z'), NOW)!;
    expect(paused.state).toBe('paused');
    expect(stateFromEvent(paused, event('unpause', '2026-11-22T01:59:01Z'), NOW)?.state).toBe(
      'running',
    );
    expect(stateFromEvent(running, event('oom', '2026-11-22T01:59:00Z'), NOW)?.oomKilled).toBe(
      true,
    );
    const healthy = stateFromEvent(
      running,
      event('health_status', '2026-11-22T01:59:00Z', { health: 'healthy' }),
      NOW,
    );
    expect(healthy).toMatchObject({ state: 'running', health: 'healthy' });
  });

  it('says nothing for events that do not fix the state, or repeat it', () => {
    for (const action of ['kill', 'restart', 'create', 'init', 'cleanup', 'rename', 'update']) {
      expect(stateFromEvent(running, event(action, '2026-11-22T01:59:00Z'), NOW)).toBeUndefined();
    }
    // A health event without a result (an engine that does not say it) is left to inspect.
    expect(stateFromEvent(running, event('health_status', '2026-11-22T01:59:00Z'), NOW)).toBe(
      undefined,
    );
    // Docker's stop after its die: already exited.
    expect(stateFromEvent(exited, event('stop', '2026-11-22T01:58:00.6Z'), NOW)).toBeUndefined();
    // podman's stop may come before its died, and neither it nor a die without its code
    // says the exit code: the state would lack it, so they are left to the inspect.
    expect(stateFromEvent(running, event('stop', '2026-11-22T01:59:00Z'), NOW)).toBeUndefined();
    expect(stateFromEvent(running, event('die', '2026-11-22T01:59:00Z'), NOW)).toBeUndefined();
  });
});

describe('a late event against what an inspect already showed', () => {
  it('an event older than the last start or finish known says nothing', () => {
    // The inspect ran ahead of the stream: exited at 01:58:00.5, then the line of the start
    // before it (01:57) arrives.
    expect(stateFromEvent(exited, event('start', '2026-11-22T01:57:00Z'), NOW)).toBeUndefined();
    expect(
      stateFromEvent(running, event('die', '2026-11-22T01:54:13Z', { exitCode: 1 }), NOW),
    ).toBeUndefined();
  });

  it('an event that would not change the state is left to its inspect', () => {
    const noHealthcheck = observed({ Health: undefined });
    expect(
      stateFromEvent(noHealthcheck, event('start', '2026-11-22T01:59:00Z'), NOW),
    ).toBeUndefined();
    expect(
      stateFromEvent(exited, event('die', '2026-11-22T01:58:00.6Z', { exitCode: 137 }), NOW),
    ).toBeUndefined();
  });
});

describe('an inspect against a state read off a newer event', () => {
  const die = { seq: 5, timeNano: ns('2026-11-22T01:58:00.6Z') };

  it('an inspect begun before the event and older than it never wins', () => {
    // Still running when it was read: begun at seq 4, before the die (seq 5) arrived.
    expect(inspectSupersedes(running, 4, die)).toBe(false);
    // Exited, but its finish is the die's own: no newer than the event, so the event stands.
    expect(inspectSupersedes(exited, 4, die)).toBe(false);
    // A pause leaves no time in inspect: an answer begun before it cannot show it is newer.
    const pause = { seq: 5, timeNano: ns('2026-11-22T01:59:00Z') };
    expect(inspectSupersedes(running, 4, pause)).toBe(false);
  });

  it('an inspect begun before the event wins when it shows a later start or finish', () => {
    const restarted = observed({ StartedAt: '2026-11-22T01:58:01Z' });
    expect(inspectSupersedes(restarted, 4, die)).toBe(true);
  });

  it('an inspect begun after the event reached the agent wins, whatever it says', () => {
    expect(inspectSupersedes(running, 5, die)).toBe(true);
    expect(inspectSupersedes(running, 6, die)).toBe(true);
  });
});
