import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { CAPABILITIES, configuredEntities } from '../../../src/main.js';
import { discoveryMessages } from '../../../discovery/agent-model.js';

/** What `outpost print-discovery` prints for this YAML. */
function printed(yaml: string) {
  const { config } = parseConfig(yaml, { env: {} });
  return discoveryMessages(config, configuredEntities(config));
}

describe('the composed capabilities', () => {
  it('each declare the event types they raise, and the Alerts entity lists every one', () => {
    const alerts = printed('node: { id: n }').find((m) => m.topic.endsWith('/agent_alerts/config'));
    const types = (alerts?.payload as { event_types: string[] }).event_types;
    for (const m of CAPABILITIES) {
      expect(m.events.length, m.name).toBeGreaterThan(0);
      expect(types).toEqual(expect.arrayContaining([...m.events]));
    }
  });

  it('add their entities from config alone: the watchdog only with its section', () => {
    const topics = (yaml: string) => printed(yaml).map((m) => m.topic);
    const without = topics('node: { id: n }');
    const withIt = topics('node: { id: n }\nwatchdog: { checks: [] }');
    const added = withIt.filter((t) => !without.includes(t));
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((t) => t.includes('/watchdog_'))).toBe(true);
    expect(without.filter((t) => !withIt.includes(t))).toEqual([]);
  });
});
