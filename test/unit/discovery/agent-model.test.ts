import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  desiredDiscovery,
  discoveryContext,
  discoveryModel,
} from '../../../discovery/agent-model.js';
import { hostDevice } from '../../../discovery/device.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { agentEntities, configuredEntities } from '../../../src/main.js';
import { containersFamily } from '../../../discovery/entities/containers.js';

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

  it('names the machine’s own host after its hostname, an SSH host by its id, a set name first', () => {
    const one = configOf(`node: { id: edge }
hosts:
  - id: local
  - id: nas
    ssh: { host: 127.0.0.1, user: ops, host_key: "${KEY}" }
  - id: backup
    name: Backup box
    ssh: { host: 127.0.0.1, user: ops, host_key: "${KEY}" }
  - id: far
    engine: { url: "tcp://192.0.2.5:2375" }
`);
    const names = (c: Config) =>
      discoveryModel(c, configuredEntities(c)).hosts.map((h) => [h.id, h.name]);
    expect(names(one)).toEqual([
      ['local', hostname()],
      ['nas', 'nas'],
      ['backup', 'Backup box'],
      ['far', 'far'],
    ]);
    // Two engines on this machine (a loopback URL is this machine too): one name each.
    expect(names(config)).toEqual([
      ['local', `${hostname()} local`],
      ['podman', `${hostname()} podman`],
      ['tcp', `${hostname()} tcp`],
      ['nas', 'nas'],
    ]);
  });

  it('renames only the device: identifiers, unique ids and topics still come from the id', () => {
    const c = configOf('node: { id: edge }\nhosts: [{ id: local }]');
    const reachable = desiredDiscovery(c, configuredEntities(c)).find(
      (x) => x.deviceId === 'outpost_edge_local',
    )!;
    expect(reachable.topic).toBe(
      'homeassistant/binary_sensor/outpost_edge/local_host_reachable/config',
    );
    expect(reachable.payload).toMatchObject({
      unique_id: 'outpost_edge_local_host_reachable',
      default_entity_id: 'binary_sensor.edge_local_host_reachable',
      state_topic: 'outpost/edge/hosts/local/availability',
      device: {
        identifiers: ['outpost_edge_local'],
        name: hostname(),
        via_device: 'outpost_edge',
      },
    });
  });

  it('lists a host’s entities in a fixed order: the host, what is about it, then each subject', () => {
    const c = configOf(`node: { id: edge }
hosts: [{ id: local, engine: { socket: /run/docker.sock } }]
policy:
  - { action: maintenance, target: local, decision: allow }
  - { action: silence, target: "local*", decision: allow }
`);
    // The families as the agent composes them, with two containers observed.
    const observed = containersFamily([
      { id: 'local', containers: [{ name: 'web' }, { name: 'db' }] },
    ]);
    const entities = agentEntities(c, [observed]);
    const local = desiredDiscovery(c, entities)
      .filter((x) => x.deviceId === 'outpost_edge_local')
      .map((x) => x.uniqueId.slice('outpost_edge_local_'.length));
    expect(local).toEqual([
      'host_reachable',
      'host_critical_container_down',
      'host_containers_running',
      'host_containers_stopped',
      'host_containers_unhealthy',
      'host_maintenance',
      'host_silence',
      ...['web', 'db'].flatMap((n) =>
        ['running', 'state', 'health', 'restart_count', 'started_at', 'restart'].map(
          (k) => `container_${n}_${k}`,
        ),
      ),
    ]);
  });
});
