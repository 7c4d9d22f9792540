import { describe, expect, it } from 'vitest';
import { discoveryContext, discoveryModel } from '../../../discovery/agent-model.js';
import { hostDevice } from '../../../discovery/device.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { configuredEntities } from '../../../src/main.js';

const KEY = `SHA256:${'A'.repeat(43)}`;
const HOSTS = `node: { id: edge }
hosts:
  - id: local
  - id: podman
    engine: { socket: /run/podman/podman.sock }
  - id: tcp
    engine: { url: "tcp://127.0.0.1:2375" }
  - id: nas
    ssh: { host: 127.0.0.1, user: ops, host_key: "${KEY}" }
`;

function configOf(yaml: string): Config {
  return parseConfig(yaml, { env: {} }).config;
}

describe('the agent’s discovery model', () => {
  const config = configOf(HOSTS);

  it('counts a host as remote only when it is reached over SSH, whatever its engine', () => {
    const model = discoveryModel(config, configuredEntities(config));
    expect(model.hosts.map((h) => [h.id, h.remote])).toEqual([
      ['local', false],
      ['podman', false],
      ['tcp', false],
      ['nas', true],
    ]);
    // Only the SSH host's entities wait for its own availability besides the agent's.
    const availability = model.hosts.map((h) =>
      hostDevice(discoveryContext(config).root, model.agent, h).availability.map((a) => a.topic),
    );
    expect(availability).toEqual([
      ['outpost/edge/availability'],
      ['outpost/edge/availability'],
      ['outpost/edge/availability'],
      ['outpost/edge/availability', 'outpost/edge/hosts/nas/availability'],
    ]);
  });
});
