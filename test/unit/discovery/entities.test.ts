import { describe, expect, it } from 'vitest';
import { agentDevice, hostDevice } from '../../../discovery/device.js';
import { desiredConfigs } from '../../../discovery/model.js';
import type { DiscoveryConfig } from '../../../discovery/entity.js';
import { agentEntities } from '../../../discovery/entities/agent.js';
import { backupEntities } from '../../../discovery/entities/backups.js';
import { containerEntities, containerKey } from '../../../discovery/entities/containers.js';
import { diskEntities, mountKeys } from '../../../discovery/entities/disks.js';
import { hostContainerEntities, hostEntities } from '../../../discovery/entities/host.js';
import {
  maintenanceEntities,
  remediationEntities,
} from '../../../discovery/entities/remediation.js';
import { silenceEntities } from '../../../discovery/entities/silence.js';
import { watchdogEntities } from '../../../discovery/entities/watchdog.js';
import { parseCommand } from '../../../src/commands/payloads.js';
import {
  CONTAINER_HEALTH,
  CONTAINER_RUN_STATES,
} from '../../../src/collectors/containers/types.js';
import { renderEnumState } from '../../helpers/ha-rules/enum-state.js';
import { agent, ctx, fullModel } from './fixtures.js';

const PREFIX = 'homeassistant/';
const NODE = 'outpost_chelsty-infra';
const AGENT_AVAIL = {
  topic: 'outpost/chelsty-infra/availability',
  payload_available: 'online',
  payload_not_available: 'offline',
};
const NAS_AVAIL = { ...AGENT_AVAIL, topic: 'outpost/chelsty-infra/hosts/nas/availability' };
const ORIGIN = ctx.origin;

const agentDev = agentDevice(ctx.root, agent);
const nas = hostDevice(ctx.root, agent, { id: 'nas', name: 'NAS', remote: true });
const local = hostDevice(ctx.root, agent, { id: 'local', remote: false });

function byKey(configs: DiscoveryConfig[], suffix: string): DiscoveryConfig {
  const found = configs.find((c) => c.uniqueId.endsWith(suffix));
  if (!found)
    throw new Error(`no config ending ${suffix}: ${configs.map((c) => c.uniqueId).join(', ')}`);
  return found;
}

describe('devices', () => {
  it('builds the agent device from the node id', () => {
    expect(agentDev.payload).toEqual({
      identifiers: ['outpost_chelsty-infra'],
      name: 'CHELSTY infra',
      model: 'outpost',
      manufacturer: 'outpost',
      sw_version: '0.1.0',
      configuration_url: 'http://192.0.2.10:8080',
    });
    expect(agentDev.availability).toEqual([AGENT_AVAIL]);
  });

  it('builds host devices via the agent; remote hosts add their availability', () => {
    expect(nas.payload).toEqual({
      identifiers: ['outpost_chelsty-infra_nas'],
      name: 'NAS',
      model: 'outpost host',
      manufacturer: 'outpost',
      sw_version: '0.1.0',
      via_device: 'outpost_chelsty-infra',
    });
    expect(nas.availability).toEqual([AGENT_AVAIL, NAS_AVAIL]);
    expect(local.payload.name).toBe('local');
    expect(local.availability).toEqual([AGENT_AVAIL]);
  });
});

describe('every config', () => {
  const all = desiredConfigs(ctx, fullModel);

  it('is retained, QoS 1, under our node id, with origin', () => {
    expect(all.length).toBeGreaterThan(40);
    for (const c of all) {
      expect(c.retain).toBe(true);
      expect(c.qos).toBe(1);
      expect(c.topic).toMatch(
        new RegExp(`^homeassistant/${c.platform}/${NODE}/[a-zA-Z0-9_-]+/config$`),
      );
      expect(c.payload.origin).toEqual(ORIGIN);
      expect(c.payload).not.toHaveProperty('object_id');
    }
  });
});

describe('containers', () => {
  const radarr = containerEntities(ctx, nas, { host: 'nas', name: 'radarr' });

  it('builds the running binary_sensor exactly', () => {
    const running = byKey(radarr, '_running');
    expect(running.topic).toBe(
      `${PREFIX}binary_sensor/${NODE}/nas_container_radarr_running/config`,
    );
    expect(running.payload).toEqual({
      name: 'radarr running',
      unique_id: 'outpost_chelsty-infra_nas_container_radarr_running',
      default_entity_id: 'binary_sensor.chelsty_infra_nas_container_radarr_running',
      device: nas.payload,
      origin: ORIGIN,
      availability: [AGENT_AVAIL, NAS_AVAIL],
      availability_mode: 'all',
      state_topic: 'outpost/chelsty-infra/hosts/nas/containers/radarr',
      value_template: `{{ 'ON' if value_json["state"] == 'running' else 'OFF' }}`,
      json_attributes_topic: 'outpost/chelsty-infra/hosts/nas/containers/radarr',
      device_class: 'running',
      qos: 1,
    });
    expect(running.stateTopics).toEqual(['outpost/chelsty-infra/hosts/nas/containers/radarr']);
    expect(running.deviceTopic).toBe(`${PREFIX}device/${NODE}/host_nas/config`);
  });

  it('builds the state sensor exactly: an enum of the run states, never a word outside them', () => {
    const state = byKey(radarr, '_state');
    expect([state.topic, state.retain, state.qos]).toEqual([
      `${PREFIX}sensor/${NODE}/nas_container_radarr_state/config`,
      true,
      1,
    ]);
    const states = '["created","running","paused","restarting","exited","dead"]';
    expect(state.payload).toEqual({
      name: 'radarr state',
      unique_id: 'outpost_chelsty-infra_nas_container_radarr_state',
      default_entity_id: 'sensor.chelsty_infra_nas_container_radarr_state',
      device: nas.payload,
      origin: ORIGIN,
      availability: [AGENT_AVAIL, NAS_AVAIL],
      availability_mode: 'all',
      state_topic: 'outpost/chelsty-infra/hosts/nas/containers/radarr',
      value_template: `{% set v = value_json.get("state") %}{{ None if v is none else (v if v in ${states} else "dead") }}`,
      device_class: 'enum',
      options: ['created', 'running', 'paused', 'restarting', 'exited', 'dead'],
      icon: 'mdi:state-machine',
      qos: 1,
    });
  });

  it('builds the health sensor exactly: an enum of the healthcheck results', () => {
    const health = byKey(radarr, '_health');
    expect([health.topic, health.retain, health.qos]).toEqual([
      `${PREFIX}sensor/${NODE}/nas_container_radarr_health/config`,
      true,
      1,
    ]);
    const results = '["healthy","unhealthy","starting","none"]';
    expect(health.payload).toEqual({
      name: 'radarr health',
      unique_id: 'outpost_chelsty-infra_nas_container_radarr_health',
      default_entity_id: 'sensor.chelsty_infra_nas_container_radarr_health',
      device: nas.payload,
      origin: ORIGIN,
      availability: [AGENT_AVAIL, NAS_AVAIL],
      availability_mode: 'all',
      state_topic: 'outpost/chelsty-infra/hosts/nas/containers/radarr',
      value_template: `{% set v = value_json.get("health") %}{{ None if v is none else (v if v in ${results} else "none") }}`,
      device_class: 'enum',
      options: ['healthy', 'unhealthy', 'starting', 'none'],
      icon: 'mdi:heart-pulse',
      qos: 1,
    });
  });

  it('shows every state the collectors publish as itself, anything else as a listed value', () => {
    const template = byKey(radarr, '_state').payload.value_template;
    for (const s of CONTAINER_RUN_STATES) {
      expect(renderEnumState(template, JSON.stringify({ state: s }))).toBe(s);
    }
    // Docker's "removing" (normalize.ts reads it as exited) from an older agent's message.
    expect(renderEnumState(template, '{"state":"removing"}')).toBe('dead');
    expect(renderEnumState(template, '{"state":null}')).toBeNull();
    expect(renderEnumState(template, '{}')).toBeNull();
    const health = byKey(radarr, '_health').payload.value_template;
    for (const h of CONTAINER_HEALTH) {
      expect(renderEnumState(health, JSON.stringify({ health: h }))).toBe(h);
    }
    expect(renderEnumState(health, '{"health":"checking"}')).toBe('none');
  });

  it('reads restarts and start time from the JSON state, both created disabled', () => {
    expect(byKey(radarr, '_restart_count').payload).toMatchObject({
      state_class: 'measurement',
      entity_category: 'diagnostic',
      icon: 'mdi:restart',
      enabled_by_default: false,
    });
    const started = byKey(radarr, '_started_at').payload;
    expect(started).toMatchObject({
      device_class: 'timestamp',
      entity_category: 'diagnostic',
      enabled_by_default: false,
    });
    expect(started).not.toHaveProperty('unit_of_measurement');
    expect(started).not.toHaveProperty('state_class');
  });

  it('leaves running, state, health and the restart button enabled', () => {
    for (const key of ['_running', '_state', '_health', '_restart']) {
      expect([key, byKey(radarr, key).payload.enabled_by_default]).toEqual([key, undefined]);
    }
  });

  it('has a restart button on the command topic', () => {
    const button = byKey(radarr, '_restart');
    expect(button.topic).toBe(`${PREFIX}button/${NODE}/nas_container_radarr_restart/config`);
    expect(button.payload).toMatchObject({
      command_topic: 'outpost/chelsty-infra/cmd/restart_container',
      payload_press: '{"target":"nas/radarr"}',
      device_class: 'restart',
      qos: 1,
    });
    expect(button.payload).not.toHaveProperty('state_topic');
    expect(button.stateTopics).toEqual([]);
  });

  it('keys compose containers by project and service, never by id or name', () => {
    const labels = {
      'com.docker.compose.project': 'media',
      'com.docker.compose.service': 'sonarr',
    };
    expect(containerKey({ name: '/media-sonarr-1', labels })).toBe('media-sonarr');
    expect(
      containerKey({
        name: 'x',
        labels: { ...labels, 'com.docker.compose.container-number': '2' },
      }),
    ).toBe('media-sonarr-2');
    expect(containerKey({ name: '/plain' })).toBe('plain');
    const c = containerEntities(ctx, nas, { host: 'nas', name: '/media-sonarr-1', labels });
    expect(byKey(c, '_running').payload.state_topic).toBe(
      'outpost/chelsty-infra/hosts/nas/containers/media-sonarr',
    );
    expect(byKey(c, '_running').payload.name).toBe('sonarr running');
    expect(byKey(c, '_restart').payload.payload_press).toBe('{"target":"nas/media-sonarr-1"}');
  });
});

describe('disks', () => {
  const disks = diskEntities(ctx, local, { host: 'local', mount: '/volume1' });

  it('builds used %, free bytes, time to full, problem and level', () => {
    expect(disks.map((c) => c.topic)).toEqual([
      `${PREFIX}sensor/${NODE}/local_disk_volume1_used_pct/config`,
      `${PREFIX}sensor/${NODE}/local_disk_volume1_free/config`,
      `${PREFIX}sensor/${NODE}/local_disk_volume1_time_to_full/config`,
      `${PREFIX}binary_sensor/${NODE}/local_disk_volume1_problem/config`,
      `${PREFIX}sensor/${NODE}/local_disk_volume1_level/config`,
    ]);
    expect(disks[0]!.payload).toMatchObject({
      unit_of_measurement: '%',
      state_class: 'measurement',
      state_topic: 'outpost/chelsty-infra/hosts/local/disks/volume1',
      availability: [AGENT_AVAIL],
    });
    expect(disks[1]!.payload).toMatchObject({
      device_class: 'data_size',
      unit_of_measurement: 'B',
      state_class: 'measurement',
    });
    expect(disks[2]!.payload).toMatchObject({
      device_class: 'duration',
      unit_of_measurement: 's',
      value_template: expect.stringContaining('time_to_full_s'),
    });
    expect(disks[3]!.payload).toMatchObject({ device_class: 'problem' });
    expect(disks[4]!.payload).toMatchObject({
      device_class: 'enum',
      options: ['ok', 'warn', 'critical'],
    });
    expect(disks[4]!.payload).not.toHaveProperty('state_class');
  });

  it('names mounts the way HA users expect: / is root, /mnt/data is mnt_data', () => {
    const root = diskEntities(ctx, local, { host: 'local', mount: '/' });
    expect(root[0]!.uniqueId).toBe('outpost_chelsty-infra_local_disk_root_used_pct');
    expect(root[0]!.payload.state_topic).toBe('outpost/chelsty-infra/hosts/local/disks/root');
    const data = diskEntities(ctx, local, { host: 'local', mount: '/mnt/data' });
    expect(data[0]!.uniqueId).toBe('outpost_chelsty-infra_local_disk_mnt_data_used_pct');
    expect(data[0]!.payload.default_entity_id).toBe(
      'sensor.chelsty_infra_local_disk_mnt_data_used_pct',
    );
  });

  it('keeps two mounts apart when their names would meet', () => {
    const keys = mountKeys(['/', '/root', '/mnt/data', '/mnt_data', '/srv', '/mnt/my disk']);
    expect(keys.get('/srv')).toBe('srv');
    expect(new Set(keys.values()).size).toBe(6);
    expect(keys.get('/')).toMatch(/^x[0-9a-f]{6}$/);
    expect(keys.get('/mnt/data')).toMatch(/^mnt_data_[0-9a-f]{6}$/);
    expect(keys.get('/mnt/my disk')).toMatch(/^mnt_my_disk_[0-9a-f]{6}$/);
    // The same mounts give the same keys on every run (after a reboot too).
    expect(mountKeys(['/mnt/data', '/mnt_data']).get('/mnt/data')).toBe(keys.get('/mnt/data'));
  });
});

describe('agent, host, watchdog, backups, remediation', () => {
  it('reads agent connectivity from the availability topic, without availability', () => {
    const [conn, alerts] = agentEntities(ctx, agentDev);
    expect(conn!.topic).toBe(`${PREFIX}binary_sensor/${NODE}/agent_connectivity/config`);
    expect(conn!.payload).toMatchObject({
      state_topic: 'outpost/chelsty-infra/availability',
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      entity_category: 'diagnostic',
    });
    expect(conn!.payload).not.toHaveProperty('availability');
    expect(alerts!.topic).toBe(`${PREFIX}event/${NODE}/agent_alerts/config`);
    expect(alerts!.payload.state_topic).toBe('outpost/chelsty-infra/events');
    expect(alerts!.payload.event_types).toContain('container_down');
  });

  it('lists an alert type a capability raises that the known list lacks, once and last', () => {
    const known = agentEntities(ctx, agentDev)[1]!.payload.event_types as string[];
    const alerts = agentEntities(ctx, agentDev, ['disk_fills_soon', 'container_down'])[1]!;
    expect(alerts.payload.event_types).toEqual([...known, 'disk_fills_soon']);
    expect(alerts.payload.value_template).toContain('"disk_fills_soon"');
  });

  it('reads host reachability from the host availability topic, available with the agent', () => {
    const [reach] = hostEntities(ctx, nas, agentDev, 'nas');
    expect(reach!.payload).toMatchObject({
      unique_id: 'outpost_chelsty-infra_nas_host_reachable',
      state_topic: 'outpost/chelsty-infra/hosts/nas/availability',
      availability: [AGENT_AVAIL],
      device: nas.payload,
    });
  });

  it('builds the watchdog on the agent device', () => {
    const w = watchdogEntities(ctx, agentDev);
    expect(w.map((c) => c.uniqueId)).toEqual([
      'outpost_chelsty-infra_watchdog_problem',
      'outpost_chelsty-infra_watchdog_petting',
      'outpost_chelsty-infra_watchdog_last_pet',
    ]);
    expect(w[0]!.payload.value_template).toBe(`{{ 'ON' if not value_json["healthy"] else 'OFF' }}`);
  });

  it('builds backup status, times and a run-now button', () => {
    const b = backupEntities(ctx, agentDev, { job: 'ha-config' });
    expect(byKey(b, '_status').payload).toMatchObject({
      device_class: 'enum',
      options: ['ok', 'running', 'failed', 'late', 'never_run'],
      state_topic: 'outpost/chelsty-infra/backups/ha-config',
    });
    expect(byKey(b, '_duration').payload).toMatchObject({
      device_class: 'duration',
      unit_of_measurement: 's',
    });
    expect(byKey(b, 'ha-config_run').payload).toMatchObject({
      command_topic: 'outpost/chelsty-infra/cmd/run_backup',
      payload_press: '{"target":"ha-config"}',
    });
    expect(byKey(b, '_problem').payload).toMatchObject({ device_class: 'problem' });
    expect(byKey(b, '_last_run').payload).toMatchObject({ device_class: 'timestamp' });
    expect(byKey(b, '_size').payload).toMatchObject({ device_class: 'data_size' });
    const reported = backupEntities(ctx, agentDev, { job: 'nas', runnable: false });
    expect(reported.some((c) => c.uniqueId.endsWith('nas_run'))).toBe(false);
  });

  it('builds remediation outcome events and an optimistic maintenance switch', () => {
    const [outcome] = remediationEntities(ctx, agentDev);
    expect(outcome!.payload.event_types).toEqual([
      'remediation_pending',
      'remediation_started',
      'remediation_completed',
      'remediation_failed',
    ]);
    const [sw] = maintenanceEntities(ctx, nas, { host: 'nas' });
    expect(sw!.topic).toBe(`${PREFIX}switch/${NODE}/nas_host_maintenance/config`);
    expect(sw!.payload).toMatchObject({
      command_topic: 'outpost/chelsty-infra/cmd/maintenance',
      payload_on: '{"target":"nas","enabled":true}',
      payload_off: '{"target":"nas","enabled":false}',
      entity_category: 'config',
    });
    expect(sw!.payload).not.toHaveProperty('state_topic');
  });
});

describe('silence', () => {
  it('builds the Alerts silenced switch exactly, on the silence command and its state', () => {
    const stateTopic = 'outpost/chelsty-infra/hosts/nas/silence';
    const [sw, ...rest] = silenceEntities(ctx, nas, { host: 'nas', stateTopic, forMs: 5_400_000 });
    expect(rest).toEqual([]);
    expect([sw!.topic, sw!.retain, sw!.qos]).toEqual([
      `${PREFIX}switch/${NODE}/nas_host_silence/config`,
      true,
      1,
    ]);
    expect(sw!.payload).toEqual({
      name: 'Alerts silenced',
      unique_id: 'outpost_chelsty-infra_nas_host_silence',
      default_entity_id: 'switch.chelsty_infra_nas_host_silence',
      device: nas.payload,
      origin: ORIGIN,
      availability: [AGENT_AVAIL, NAS_AVAIL],
      availability_mode: 'all',
      state_topic: stateTopic,
      value_template: `{{ 'ON' if value_json.get('silenced') else 'OFF' }}`,
      json_attributes_topic: stateTopic,
      command_topic: 'outpost/chelsty-infra/cmd/silence',
      device_class: 'switch',
      entity_category: 'config',
      icon: 'mdi:bell-off',
      payload_on: '{"target":"nas","enabled":true,"args":{"for":5400}}',
      payload_off: '{"target":"nas","enabled":false}',
      state_on: 'ON',
      state_off: 'OFF',
      qos: 1,
    });
    expect(sw!.stateTopics).toEqual([stateTopic]);
    expect(sw!.observed).toBe(false);
  });

  it('sends what the silence command parses, so the switch acts as it shows', () => {
    const stateTopic = 'outpost/chelsty-infra/hosts/nas/silence';
    const [sw] = silenceEntities(ctx, nas, { host: 'nas', stateTopic, forMs: 5_400_000 });
    const parsed = (payload: unknown) => parseCommand('silence', payload as string);
    expect(parsed(sw!.payload.payload_on)).toMatchObject({
      ok: true,
      command: { target: 'nas', enabled: true, args: { for: 5_400_000 } },
    });
    expect(parsed(sw!.payload.payload_off)).toMatchObject({
      ok: true,
      command: { target: 'nas', enabled: false },
    });
  });
});

describe('host container entities', () => {
  it('reads totals and the critical-down problem from the host state topic, on the host device', () => {
    const configs = hostContainerEntities(ctx, nas, 'nas');
    expect(configs.map((c) => c.topic)).toEqual([
      `${PREFIX}binary_sensor/${NODE}/nas_host_critical_container_down/config`,
      `${PREFIX}sensor/${NODE}/nas_host_containers_running/config`,
      `${PREFIX}sensor/${NODE}/nas_host_containers_stopped/config`,
      `${PREFIX}sensor/${NODE}/nas_host_containers_unhealthy/config`,
    ]);
    const problem = configs[0]!.payload;
    expect(problem).toMatchObject({
      device_class: 'problem',
      state_topic: 'outpost/chelsty-infra/hosts/nas',
      value_template: `{{ 'ON' if value_json["critical_down"] else 'OFF' }}`,
      availability: [AGENT_AVAIL, NAS_AVAIL],
      availability_mode: 'all',
    });
    expect(configs[1]!.payload).toMatchObject({
      state_class: 'measurement',
      value_template:
        '{{ value_json["running"] if value_json["running"] is defined and value_json["running"] is not none else None }}',
    });
    expect(configs.every((c) => c.stateTopics.includes('outpost/chelsty-infra/hosts/nas'))).toBe(
      true,
    );
  });
});

describe('approval buttons', () => {
  it('offers approve and reject for each pending action, through the command topics', () => {
    const configs = remediationEntities(ctx, agentDev, {
      pending: [{ id: 'a1b2', action: 'restart_container', target: 'nas/radarr' }],
    }).filter((c) => c.platform === 'button');
    expect(configs.map((c) => c.topic)).toEqual([
      `${PREFIX}button/${NODE}/remediation_a1b2_approve/config`,
      `${PREFIX}button/${NODE}/remediation_a1b2_reject/config`,
    ]);
    expect(configs[0]!.payload).toMatchObject({
      name: 'Approve restart container nas/radarr',
      command_topic: 'outpost/chelsty-infra/cmd/approve',
      payload_press: '{"target":"a1b2","requested_by":"home-assistant"}',
    });
    expect(configs[1]!.payload).toMatchObject({
      command_topic: 'outpost/chelsty-infra/cmd/reject',
    });
    expect(configs.every((c) => !c.observed)).toBe(true); // gone as soon as decided
  });
});

describe('fixed approval entities', () => {
  const PENDING = 'outpost/chelsty-infra/remediation/pending';
  const build = (pending: { id: string; action: string; target: string }[]) =>
    remediationEntities(ctx, agentDev, { pendingTopic: PENDING, pending });

  it('publishes approve / reject oldest and selected and a select, with ids that never change', () => {
    const none = build([]);
    const two = build([
      { id: '01A', action: 'restart_container', target: 'local/db' },
      { id: '01B', action: 'stop_container', target: 'nas/radarr' },
    ]);
    const fixed = (configs: DiscoveryConfig[]) =>
      configs.filter((c) => !/_01[AB]_/.test(c.uniqueId)).map((c) => c.topic);
    expect(fixed(none)).toEqual([
      `${PREFIX}event/${NODE}/remediation_outcome/config`,
      `${PREFIX}sensor/${NODE}/remediation_pending/config`,
      `${PREFIX}button/${NODE}/remediation_approve_oldest/config`,
      `${PREFIX}button/${NODE}/remediation_reject_oldest/config`,
      `${PREFIX}select/${NODE}/remediation_selected/config`,
      `${PREFIX}button/${NODE}/remediation_approve_selected/config`,
      `${PREFIX}button/${NODE}/remediation_reject_selected/config`,
    ]);
    expect(fixed(two)).toEqual(fixed(none));
    expect(byKey(two, '_approve_oldest').payload).toMatchObject({
      name: 'Approve oldest',
      unique_id: `${NODE}_remediation_approve_oldest`,
      default_entity_id: 'button.chelsty_infra_remediation_approve_oldest',
      command_topic: 'outpost/chelsty-infra/cmd/approve',
      payload_press: '{"oldest":true,"requested_by":"home-assistant"}',
      availability: [AGENT_AVAIL],
      qos: 1,
    });
    expect(byKey(two, '_reject_oldest').payload).toMatchObject({
      command_topic: 'outpost/chelsty-infra/cmd/reject',
      payload_press: '{"oldest":true,"requested_by":"home-assistant"}',
    });
    expect(byKey(two, '_approve_selected').payload).toMatchObject({
      name: 'Approve selected',
      command_topic: 'outpost/chelsty-infra/cmd/approve',
      payload_press: '{"selected":true,"requested_by":"home-assistant"}',
    });
    expect(byKey(two, '_reject_selected').payload).toMatchObject({
      command_topic: 'outpost/chelsty-infra/cmd/reject',
      payload_press: '{"selected":true,"requested_by":"home-assistant"}',
    });
    expect(two.every((c) => c.retain && c.qos === 1 && !c.observed)).toBe(true);
  });

  it('lists the pending actions as the select options, reading the choice from the summary', () => {
    const select = byKey(
      build([
        { id: '01A', action: 'restart_container', target: 'local/db' },
        { id: '01B', action: 'stop_container', target: 'nas/radarr' },
      ]),
      '_remediation_selected',
    );
    expect(select.platform).toBe('select');
    expect(select.payload).toEqual({
      name: 'Pending action',
      unique_id: `${NODE}_remediation_selected`,
      default_entity_id: 'select.chelsty_infra_remediation_selected',
      device: agentDev.payload,
      origin: ORIGIN,
      availability: [AGENT_AVAIL],
      availability_mode: 'all',
      state_topic: PENDING,
      value_template: `{{ value_json['selected']['option'] if value_json.get('selected') else "(none)" }}`,
      command_topic: 'outpost/chelsty-infra/cmd/select',
      command_template: "{{ {'option': value, 'requested_by': 'home-assistant'} | tojson }}",
      options: ['(none)', 'restart container local/db (01A)', 'stop container nas/radarr (01B)'],
      icon: 'mdi:format-list-checks',
      qos: 1,
    });
    expect(byKey(build([]), '_remediation_selected').payload.options).toEqual(['(none)']);
    const many = Array.from({ length: 150 }, (_, i) => ({
      id: `a${i}`,
      action: 'restart_container',
      target: `local/c${i}`,
    }));
    const options = byKey(build(many), '_remediation_selected').payload.options as string[];
    expect(options).toHaveLength(101);
    expect(options.at(-1)).toBe('restart container local/c99 (a99)');
  });
});
