import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import {
  configurationUrl,
  desiredDiscovery as desiredDiscoveryFor,
} from '../../../discovery/agent-model.js';
import type { Config } from '../../../src/config/schema.js';
import { configuredEntities } from '../../../src/main.js';

/** What the agent publishes for a config before anything is observed. */
const desiredDiscovery = (c: Config) => desiredDiscoveryFor(c, configuredEntities(c));

const config = (http: string) => parseConfig(`node: { id: n }\n${http}`, { env: {} }).config;

describe('the agent device’s configuration_url', () => {
  it('points at the health endpoint when Home Assistant can reach it', () => {
    expect(configurationUrl(config('http: { enabled: true, listen: "0.0.0.0:8099" }'))).toBe(
      `http://${hostname()}:8099/api/health/services`,
    );
    expect(configurationUrl(config('http: { enabled: true, listen: "192.0.2.7:80" }'))).toBe(
      'http://192.0.2.7:80/api/health/services',
    );
    const agent = desiredDiscovery(config('http: { enabled: true, listen: "192.0.2.7:80" }'))[0]!;
    expect(agent.payload.device).toMatchObject({
      configuration_url: 'http://192.0.2.7:80/api/health/services',
    });
  });

  it('is absent when the endpoint is off or on loopback only', () => {
    expect(configurationUrl(config(''))).toBeUndefined();
    expect(configurationUrl(config('http: { enabled: true }'))).toBeUndefined();
    const agent = desiredDiscovery(config(''))[0]!;
    expect(agent.payload.device).not.toHaveProperty('configuration_url');
  });
});
