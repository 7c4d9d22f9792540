import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { discoveryMessages } from '../../../discovery/agent-model.js';
import { containersFamily } from '../../../discovery/entities/containers.js';
import { disksFamily } from '../../../discovery/entities/disks.js';
import {
  dashboardFromRetained,
  dashboardYaml,
  NothingRetainedError,
} from '../../../src/cli/dashboard/from-retained.js';
import { liveEntities } from '../../../src/cli/dashboard/live-entities.js';
import { previewStates } from '../../../src/cli/dashboard/preview-states.js';
import { previewHtml } from '../../../src/cli/dashboard/preview.js';
import { UsageError } from '../../../src/cli/args.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { configuredEntities } from '../../../src/main.js';
import { validateDashboard } from '../../helpers/ha-rules/dashboard.js';

/**
 * The dashboard builder from the discovery configs the agent itself makes for a config (the
 * same builders `outpost run` publishes with), in both discovery modes, as the broker would
 * retain them.
 */
const KEY = `SHA256:${'A'.repeat(43)}`;
const CONFIG = (deviceBased: boolean) => `node: { id: edge, name: Edge site }
discovery: { device_based: ${deviceBased} }
hosts:
  - id: local
    name: apps
    engine: { socket: /run/docker.sock }
  - id: nas
    name: NAS
    ssh: { host: 127.0.0.1, user: ops, host_key: "${KEY}" }
    engine: { command: [docker] }
    cleanup: { images: [docker, image, prune, -af] }
disks:
  warn: 80
  critical: 90
  mounts: [{ path: /mnt/*, warn: 70, critical: 85 }]
backups:
  jobs:
    - { name: photos, host: nas, command: [rsync, -a, /a/, /b/], schedule: '0 3 * * *', max_age: 26h }
    - { name: etcd, max_age: 25h }
broker: { users: [{ username: ops, password: pw }] }
remediation: { approvers: [ops] }
policy:
  - { action: restart_container, target: "*/*", decision: approve }
  - { action: disk_cleanup, target: "nas", decision: approve }
watchdog:
  checks: [{ id: broker, tcp: '127.0.0.1:1883' }]
home_assistant: { url: "ws://127.0.0.1:8123/api/websocket" }
zigbee2mqtt: { stale_after: 25h }
`;

function configOf(deviceBased = false): Config {
  return parseConfig(CONFIG(deviceBased), { env: { HA_TOKEN: 'not-a-real-token' } }).config;
}

/** The retained messages an agent with two containers a host and two mounts on nas publishes. */
function retainedFor(config: Config, states: Record<string, string> = {}): Map<string, string> {
  const base = configuredEntities(config);
  const families = [
    ...base.families.filter((f) => f.name !== 'containers' && f.name !== 'disks'),
    containersFamily([
      { id: 'local', containers: [{ name: 'web' }, { name: 'db', withRestart: false }] },
      {
        id: 'nas',
        containers: [{ name: 'photos-app-1', labels: { 'com.docker.compose.service': 'photos' } }],
      },
    ]),
    disksFamily([
      { id: 'local', mounts: ['/'] },
      { id: 'nas', mounts: ['/', '/mnt/data'], cleanable: ['/mnt/data'] },
    ]),
  ];
  const out = new Map<string, string>();
  for (const m of discoveryMessages(config, { ...base, families })) {
    out.set(m.topic, JSON.stringify(m.payload));
  }
  for (const [t, p] of Object.entries(states)) out.set(t, p);
  return out;
}

type Card = Record<string, unknown>;
function sectionsOf(d: { views: [Record<string, unknown>] }): Card[][] {
  return (d.views[0].sections as { cards: Card[] }[]).map((s) => s.cards);
}
const headings = (cards: Card[]) => cards.filter((c) => c.type === 'heading').map((c) => c.heading);

describe('outpost dashboard: the builder', () => {
  for (const deviceBased of [false, true]) {
    it(`lays out the agent, then each host by name (${deviceBased ? 'device-based' : 'per-entity'} discovery)`, () => {
      const config = configOf(deviceBased);
      const retained = retainedFor(config);
      const board = dashboardFromRetained(config, retained);
      const live = liveEntities(
        [...retained].map(([topic, payload]) => ({ topic, payload })),
        'homeassistant',
      );
      const ids = new Set(live.entities.map((e) => e.entityId));
      expect(validateDashboard(board, ids)).toEqual([]);
      expect(board.title).toBe('Edge site (outpost)');
      expect(board.views[0]).toMatchObject({ type: 'sections', max_columns: 4 });
      const [agent, local, nas, ha, z2m, ...rest] = sectionsOf(board);
      expect(rest).toEqual([]);
      // The integrations last, when their bridges are configured.
      expect(ha![0]).toMatchObject({ type: 'heading', heading: 'Home Assistant' });
      expect(ha!.slice(1).map((c) => c.entity)).toContain('binary_sensor.edge_home_assistant_link');
      expect(z2m!.map((c) => c.entity ?? c.heading)).toEqual([
        'Zigbee2MQTT',
        'binary_sensor.edge_zigbee2mqtt_bridge',
        'sensor.edge_zigbee2mqtt_devices',
        'sensor.edge_zigbee2mqtt_stale_devices',
      ]);
      expect(headings(agent!)).toEqual(['Edge site', 'Approvals']);
      // Hosts by name, whatever its case.
      expect(headings(local!)[0]).toBe('apps');
      expect(headings(nas!)).toEqual(['NAS', 'Containers', 'Disks', 'Backups']);
      // A job without a host runs on the agent's machine: `local`.
      expect(headings(local!).slice(1)).toEqual(['Containers', 'Disks', 'Backups']);

      // Containers: a state tile each, the restart button beside it only where there is one.
      const localCards = local!.filter((c) => c.type !== 'heading');
      expect(localCards.map((c) => [c.type, c.name, c.entity])).toEqual([
        ['tile', 'Reachable', 'binary_sensor.edge_local_host_reachable'],
        [
          'tile',
          'Critical container down',
          'binary_sensor.edge_local_host_critical_container_down',
        ],
        ['tile', 'db', 'sensor.edge_local_container_db_state'],
        ['tile', 'web', 'sensor.edge_local_container_web_state'],
        ['button', 'Restart', 'button.edge_local_container_web_restart'],
        ['gauge', '/', 'sensor.edge_local_disk_root_used_pct'],
        ['tile', 'etcd', 'sensor.edge_local_backup_etcd_status'],
        ['tile', 'Last success', 'sensor.edge_local_backup_etcd_last_success'],
      ]);
      expect(localCards[4]).toMatchObject({
        tap_action: {
          action: 'perform-action',
          perform_action: 'button.press',
          target: { entity_id: 'button.edge_local_container_web_restart' },
          confirmation: { text: 'Restart web?' },
        },
      });
      // Gauges take the disks section's levels, a mount's own where it has them.
      const gauges = nas!.filter((c) => c.type === 'gauge');
      expect(gauges.map((g) => [g.name, g.severity])).toEqual([
        ['/', { green: 0, yellow: 80, red: 90 }],
        ['/mnt/data', { green: 0, yellow: 70, red: 85 }],
      ]);
      expect(nas!.find((c) => c.name === 'Clean up /mnt/data')).toMatchObject({ type: 'button' });
      expect(nas!.find((c) => c.name === 'photos' && c.type === 'tile')).toMatchObject({
        entity: 'sensor.edge_nas_container_photos_app_1_state',
      });
      expect(nas!.filter((c) => c.type === 'tile').map((c) => c.name)).toContain('Last success');

      // The agent: its link, the watchdog, the last alert, open problems, approvals.
      expect(agent!.filter((c) => c.type === 'tile').map((c) => c.name)).toEqual([
        'Agent',
        'Watchdog',
        'Last alert',
        'Pending actions',
        'Pending action',
      ]);
      const problems = agent!.find((c) => c.type === 'entity-filter')!;
      expect(problems.state_filter).toEqual(['on']);
      expect(problems.entities).toContain('binary_sensor.edge_watchdog_problem');
      expect(problems.entities).toContain('binary_sensor.edge_nas_disk_mnt_data_problem');
      expect(problems.entities).toContain('binary_sensor.edge_local_backup_etcd_problem');
      expect(
        agent!.filter((c) => c.type === 'button').map((c) => (c.tap_action as Card).target),
      ).toEqual([
        { entity_id: 'button.edge_remediation_approve_oldest' },
        { entity_id: 'button.edge_remediation_reject_oldest' },
        { entity_id: 'button.edge_remediation_approve_selected' },
        { entity_id: 'button.edge_remediation_reject_selected' },
      ]);
    });
  }

  it('gives the same YAML in both discovery modes and whatever order the broker sent them in', () => {
    const a = configOf(false);
    const b = configOf(true);
    const yamlA = dashboardYaml(dashboardFromRetained(a, retainedFor(a)), 'edge');
    const reversed = new Map([...retainedFor(b)].reverse());
    expect(dashboardYaml(dashboardFromRetained(b, reversed), 'edge')).toBe(yamlA);
    const parsed = parse(yamlA) as { views: unknown[] };
    expect(parsed.views).toHaveLength(1);
    expect(yamlA).toMatch(/^# Home Assistant dashboard of outpost node "edge"/);
  });

  it('reads a mount from the disk’s retained state, and leaves disabled entities out', () => {
    const config = configOf();
    const retained = retainedFor(config, {
      'outpost/edge/hosts/nas/disks/mnt_data': JSON.stringify({ mount: '/mnt/data', used_pct: 3 }),
    });
    const board = dashboardFromRetained(config, retained);
    const text = JSON.stringify(board);
    expect(text).toContain('"name":"/mnt/data"');
    // restart_count and started_at are created disabled: no card may name them.
    expect(text).not.toMatch(/restart_count|started_at/);
  });

  it('keeps only the hosts asked for, by id or name, and names the choices for an unknown one', () => {
    const config = configOf();
    const retained = retainedFor(config);
    const one = dashboardFromRetained(config, retained, { hosts: ['NAS'], title: 'Storage' });
    expect(one.title).toBe('Storage');
    expect(sectionsOf(one).map((s) => s[0]!.heading)).toEqual([
      'Edge site',
      'NAS',
      'Home Assistant',
      'Zigbee2MQTT',
    ]);
    expect(sectionsOf(dashboardFromRetained(config, retained, { hosts: ['nas'] }))).toHaveLength(4);
    expect(() => dashboardFromRetained(config, retained, { hosts: ['garage'] })).toThrow(
      UsageError,
    );
    expect(() => dashboardFromRetained(config, retained, { hosts: ['garage'] })).toThrow(
      /--host: no host "garage" among the retained configs; expected a host id or name \(.*NAS/,
    );
  });

  it('says why when nothing of this node is retained: another node, or nothing at all', () => {
    const other = parseConfig('node: { id: other }\n', { env: {} }).config;
    const retained = retainedFor(configOf());
    expect(() => dashboardFromRetained(other, retained)).toThrow(NothingRetainedError);
    expect(() => dashboardFromRetained(other, retained)).toThrow(
      'no entities of node "other" in the retained discovery configs under homeassistant/+/outpost_other/+/config: is the agent running with this config (node.id, mqtt.discovery_prefix), and has it published discovery yet?',
    );
    const broken = new Map([['homeassistant/sensor/outpost_other/x/config', '{not json']]);
    expect(() => dashboardFromRetained(other, broken)).toThrow(
      /passed over: homeassistant\/sensor\/outpost_other\/x\/config: not a JSON object/,
    );
  });
});

describe('outpost dashboard: the preview’s states', () => {
  it('reads the states through the template shapes outpost writes, and unknown otherwise', () => {
    const config = configOf();
    const retained = retainedFor(config, {
      'outpost/edge/hosts/local/containers/web': JSON.stringify({
        state: 'exited',
        health: 'none',
      }),
      'outpost/edge/hosts/local/disks/root': JSON.stringify({ mount: '/', used_pct: 91.5 }),
      'outpost/edge/watchdog': JSON.stringify({ healthy: false }),
      'outpost/edge/hosts/local/availability': 'online',
      'outpost/edge/remediation/pending': JSON.stringify({ pending: 2, actions: [] }),
    });
    const live = liveEntities(
      [...retained].map(([topic, payload]) => ({ topic, payload })),
      'homeassistant',
    );
    const states = previewStates(live.entities, retained);
    const state = (id: string) => states.get(id)?.state;
    expect(state('binary_sensor.edge_local_container_web_running')).toBe('off');
    expect(state('sensor.edge_local_container_web_state')).toBe('exited');
    expect(state('sensor.edge_local_disk_root_used_pct')).toBe('91.5');
    expect(state('binary_sensor.edge_watchdog_problem')).toBe('on');
    expect(state('binary_sensor.edge_local_host_reachable')).toBe('on');
    expect(state('sensor.edge_remediation_pending')).toBe('2');
    expect(state('select.edge_remediation_selected')).toBe('none');
    // Nothing retained: unknown, never a guess.
    expect(state('sensor.edge_nas_disk_root_used_pct')).toBe('unknown');

    const html = previewHtml(dashboardFromRetained(config, retained), states);
    expect(html).toContain("outpost's preview of the YAML");
    expect(html).toMatch(
      /class="card tile bad" data-entity="sensor\.edge_local_container_web_state"/,
    );
    expect(html).toContain('<path class="value red"');
  });
});
