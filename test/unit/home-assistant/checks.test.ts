import { describe, expect, it } from 'vitest';
import {
  failedIntegrations,
  parseStates,
  unavailableEntities,
} from '../../../bridges/home-assistant/checks.js';
import { RestartWindow } from '../../../bridges/home-assistant/restart-window.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const ago = (min: number) => new Date(NOW - min * 60_000).toISOString();
const rules = { afterMs: 15 * 60_000, domains: [], integrations: [], entities: [], maxListed: 5 };

describe('Home Assistant health checks (issue 18, point 2)', () => {
  it('names integrations in setup_error, setup_retry or migration_error only', () => {
    const f = failedIntegrations(
      [
        { entry_id: '1', domain: 'hue', title: 'Hue', state: 'loaded' },
        { entry_id: '2', domain: 'zha', title: 'Zigbee', state: 'setup_error', reason: 'no radio' },
        { entry_id: '3', domain: 'met', title: 'Weather', state: 'setup_in_progress' },
        { entry_id: '4', domain: 'mqtt', title: 'MQTT', state: 'migration_error' },
      ],
      10,
    );
    expect(f).toEqual({
      count: 2,
      names: ['Zigbee (zha, setup_error: no radio)', 'MQTT (mqtt, migration_error)'],
    });
  });

  it('counts entities unavailable past the threshold, by domain or entity glob, listing a bounded few', () => {
    const { items, malformed } = parseStates([
      { entity_id: 'light.a', state: 'unavailable', last_changed: ago(30) },
      { entity_id: 'light.b', state: 'unavailable', last_changed: ago(5) },
      { entity_id: 'sensor.garden_1', state: 'unavailable', last_changed: ago(60) },
      { entity_id: 'sensor.other', state: 'unavailable', last_changed: ago(60) },
      { entity_id: 'switch.x', state: 'on', last_changed: ago(60) },
      { entity_id: 'Not An Id', state: 'unavailable' },
      'garbage',
    ]);
    expect(malformed).toBe(2);
    expect(unavailableEntities(items, [], rules, NOW).names).toEqual([
      'light.a',
      'sensor.garden_1',
      'sensor.other',
    ]);
    const some = { ...rules, domains: ['light'], entities: ['sensor.garden_*'], maxListed: 1 };
    expect(unavailableEntities(items, [], some, NOW)).toMatchObject({
      count: 2,
      names: ['light.a'],
    });
  });
});

describe('the restart window', () => {
  it('is quiet from a stop until the grace after the start, and a stop alone ends', () => {
    const w = new RestartWindow(1000);
    expect(w.active(0)).toBe(false);
    w.stopping(0);
    expect(w.active(999)).toBe(true);
    expect(w.active(1000)).toBe(false); // never came back: an outage after all
    w.started(5000);
    expect(w.active(5999)).toBe(true);
    expect(w.active(6000)).toBe(false);
    w.started(9000); // no stop before it: nothing to extend
    expect(w.active(9001)).toBe(false);
    w.reloading(10_000);
    expect(w.active(10_500)).toBe(true);
  });
});
