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
  const users = 'users: [{ name: alice, token: alice-token-0123456789 }]';
  const page = (listen: string) =>
    config(`http: { enabled: true, listen: "${listen}", status_page: true, ${users} }`);

  it('points at the status page when Home Assistant can reach it', () => {
    expect(configurationUrl(page('0.0.0.0:8099'))).toBe(`http://${hostname()}:8099/status/`);
    expect(configurationUrl(page('192.0.2.7:80'))).toBe('http://192.0.2.7:80/status/');
    const agent = desiredDiscovery(page('192.0.2.7:80'))[0]!;
    expect(agent.payload.device).toMatchObject({
      configuration_url: 'http://192.0.2.7:80/status/',
    });
  });

  it('is absent when the page is off or on loopback only', () => {
    expect(configurationUrl(config(''))).toBeUndefined();
    expect(configurationUrl(config('http: { enabled: true }'))).toBeUndefined();
    expect(configurationUrl(page('127.0.0.1:8099'))).toBeUndefined();
    // Off loopback the health API needs a bearer token: a link to it would only say 401.
    const api = config('http: { enabled: true, listen: "192.0.2.7:80" }');
    expect(configurationUrl(api)).toBeUndefined();
    const agent = desiredDiscovery(config(''))[0]!;
    expect(agent.payload.device).not.toHaveProperty('configuration_url');
  });
});
