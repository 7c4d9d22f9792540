import { describe, expect, it } from 'vitest';
import { WATCHDOG_FIELDS } from '../../../discovery/entities/watchdog.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import type { WatchdogState } from '../../../src/capabilities/watchdog/watchdog.js';
import { parseConfig } from '../../../src/config/load.js';
import { topics } from '../../../src/core/topics.js';
import {
  desiredDiscovery as desiredDiscoveryFor,
  discoveryMessages as discoveryMessagesFor,
} from '../../../discovery/agent-model.js';
import type { Config } from '../../../src/config/schema.js';
import { configuredEntities } from '../../../src/main.js';

/** What the agent publishes for a config before anything is observed. */
const desiredDiscovery = (c: Config) => desiredDiscoveryFor(c, configuredEntities(c));
const discoveryMessages = (c: Config) => discoveryMessagesFor(c, configuredEntities(c));

function config(extra: string) {
  return parseConfig(`node: { id: edge }\nhosts: [{ id: local }]\n${extra}`, { env: {} }).config;
}

const WATCHDOG = `watchdog:
  checks:
    - { id: sshd, tcp: "127.0.0.1:22" }
    - { id: central, tcp: "192.0.2.1:8883", class: uplink }
`;

describe('watchdog discovery', () => {
  it('adds the watchdog entities to the agent device only when the section is there', () => {
    const without = desiredDiscovery(config(''));
    expect(without.some((c) => c.uniqueId.includes('_watchdog_'))).toBe(false);
    const withIt = desiredDiscovery(config(WATCHDOG)).filter((c) =>
      c.uniqueId.includes('_watchdog_'),
    );
    // No hardware watchdog configured: nothing is petted, so no petting entities.
    expect(withIt.map((c) => [c.topic, c.retain, c.qos])).toEqual([
      ['homeassistant/binary_sensor/outpost_edge/watchdog_problem/config', true, 1],
    ]);
    const petted = desiredDiscovery(
      config(`${WATCHDOG}  device: { path: /dev/watchdog, enabled: true }\n`),
    ).filter((c) => c.uniqueId.includes('_watchdog_'));
    expect(petted.map((c) => c.topic)).toEqual([
      'homeassistant/binary_sensor/outpost_edge/watchdog_problem/config',
      'homeassistant/binary_sensor/outpost_edge/watchdog_petting/config',
      'homeassistant/sensor/outpost_edge/watchdog_last_pet/config',
    ]);
    const state = topics.watchdog({ base: 'outpost', node: 'edge' });
    expect(withIt[0]!.payload).toMatchObject({
      state_topic: state,
      json_attributes_topic: state,
      device_class: 'problem',
      device: { identifiers: ['outpost_edge'] },
    });
    for (const c of [...withIt, ...petted]) expect(c.stateTopics).toEqual([state]);
  });

  it('passes the Home Assistant rules, per entity and device-based', () => {
    expect(validateDiscovery(desiredDiscovery(config(WATCHDOG)))).toEqual([]);
    const petted = `${WATCHDOG}  device: { path: /dev/watchdog, enabled: true }\n`;
    expect(validateDiscovery(desiredDiscovery(config(petted)))).toEqual([]);
    expect(
      validateDiscovery(
        discoveryMessages(config(`discovery: { device_based: true }\n${WATCHDOG}`)),
      ),
    ).toEqual([]);
  });

  it('reads fields the watchdog state has', () => {
    const fields: (keyof WatchdogState)[] = Object.values(WATCHDOG_FIELDS);
    expect(fields).toEqual(['healthy', 'petting', 'last_pet']);
  });
});
