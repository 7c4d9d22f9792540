import { hostname } from 'node:os';
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

  it('print each host’s device as Home Assistant gets it before anything is observed, in order', () => {
    const lines = printed(`node: { id: n, name: Site }
hosts:
  - id: local
    engine: { socket: /run/docker.sock }
  - id: nas
    ssh: { host: 192.0.2.9, user: ops, host_key: "SHA256:${'A'.repeat(43)}" }
policy:
  - { action: maintenance, target: "*", decision: allow }
  - { action: silence, target: "*", decision: allow }
`);
    // The host devices (the agent's own entities are other families' to pin).
    const shown = lines.flatMap((m) => {
      const p = m.payload as { name: string; device: { name: string; via_device?: string } };
      return p.device.via_device ? [`${p.device.name}: ${p.name}`] : [];
    });
    expect(shown).toEqual([
      `${hostname()}: Reachable`,
      `${hostname()}: Critical container down`,
      `${hostname()}: Containers running`,
      `${hostname()}: Containers stopped`,
      `${hostname()}: Containers unhealthy`,
      `${hostname()}: Maintenance`,
      `${hostname()}: Alerts silenced`,
      'nas: Reachable',
      'nas: Maintenance',
      'nas: Alerts silenced',
    ]);
    expect(lines.every((m) => m.retain && m.qos === 1)).toBe(true);
  });
});
