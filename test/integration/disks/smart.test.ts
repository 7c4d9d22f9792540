import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnEdgeAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { retained } from '../../helpers/mqtt.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import type { SmartState } from '../../../src/capabilities/disks/smart/tracker.js';
import { writeFakeSmartctl } from './fake-smartctl.js';
import { diskEvents, diskState, diskTopics } from './helpers.js';

/**
 * Issue #16 point 3: SMART through the agent as it ships, from a FAKE `smartctl` on PATH
 * that prints captured `smartctl -j` output (fake-smartctl.ts), read both locally (argv)
 * and on an SSH host through the real sshd (the fixed script). The command is
 * `env PATH=<fake dir>:… smartctl`, so smartctl is found on PATH on both sides.
 */
describe('SMART through the agent, locally and over SSH, from a fake smartctl', () => {
  let sshd: SshdServer;
  let dir: string;
  const agents: AgentProcess[] = [];

  const start = async (command: string[]) => {
    const started = await spawnEdgeAgent(
      () => `hosts:
  - id: here
  - id: nas
    ssh:
      host: ${sshd.host}
      port: ${sshd.port}
      user: ${sshd.user}
      key_file: ${sshd.clientKeyPath}
      host_key: "${sshd.hostKeyFingerprint}"
disks:
  poll_every: 500ms
  include: [ "/" ]
  smart: { poll_every: 500ms, command: ${JSON.stringify(command)} }
`,
    );
    agents.push(started.agent);
    return started;
  };
  const smartState = async (url: string, host: string, drive: string) => {
    const topic = `outpost/edge/hosts/${host}/smart/${drive}`;
    const raw = (await retained(url, topic)).get(topic);
    return raw === undefined ? undefined : (JSON.parse(raw) as SmartState);
  };

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('fake-smartctl');
    await writeFakeSmartctl(dir);
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) await a.cleanup();
    await sshd?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('publishes each drive’s health and opens an incident for the failing one, on both hosts', async () => {
    const { agent, url } = await start(['env', `PATH=${dir}:/usr/bin:/bin`, 'smartctl']);
    for (const host of ['here', 'nas']) {
      await eventually(async () => {
        expect(await smartState(url, host, 'sda')).toMatchObject({
          device: '/dev/sda',
          health: 'passed',
          temperature_c: 34,
          reallocated: 0,
          pending: 0,
          power_on_hours: 21873,
          problem: false,
          error: null,
        });
      });
      expect(await smartState(url, host, 'sdb')).toMatchObject({
        health: 'failed',
        reallocated: 1904,
        pending: 24,
        problem: true,
      });
      expect(await smartState(url, host, 'nvme0')).toMatchObject({
        health: 'passed',
        protocol: 'NVMe',
        temperature_c: 38,
        reallocated: null,
        power_on_hours: 9876,
      });
    }
    const configs = await eventually(async () => {
      const m = await retained(url, 'homeassistant/+/outpost_edge/+/config');
      expect(m.has('homeassistant/binary_sensor/outpost_edge/nas_smart_sdb_problem/config')).toBe(
        true,
      );
      return m;
    });
    expect(
      JSON.parse(
        configs.get('homeassistant/sensor/outpost_edge/nas_smart_sda_temperature/config')!,
      ),
    ).toMatchObject({
      device_class: 'temperature',
      unit_of_measurement: '°C',
      state_topic: 'outpost/edge/hosts/nas/smart/sda',
      device: { identifiers: ['outpost_edge_nas'] },
    });
    const events = await eventually(async () => {
      const es = (await diskEvents(agent)).filter((e) => e.type === 'disk_smart_failed');
      expect(es.map((e) => e.subject).sort()).toEqual([
        'here:smart:/dev/sdb',
        'nas:smart:/dev/sdb',
      ]);
      return es;
    });
    expect(events[0]).toMatchObject({ severity: 'critical', data: { device: '/dev/sdb' } });
    // Polled over and over: still one incident per failing drive, never a second alert.
    expect(await diskState(url, diskTopics('nas', '/').state)).toMatchObject({ error: null });
    expect((await diskEvents(agent)).filter((e) => e.type === 'disk_smart_failed')).toHaveLength(2);
  }, 120_000);

  it('takes a host without smartctl as no drives, said once at info, not as an error', async () => {
    const { agent, url } = await start(['outpost-test-no-such-smartctl']);
    await eventually(async () =>
      expect(await diskState(url, diskTopics('nas', '/').state)).toMatchObject({ error: null }),
    );
    await eventually(() => {
      const said = agent.output().match(/no smartctl on this host/g) ?? [];
      expect(said).toHaveLength(2);
    });
    const m = await retained(url, 'outpost/edge/hosts/+/smart/+');
    expect([...m.keys()]).toEqual([]);
    expect(agent.output()).not.toMatch(/"level":"(warn|error)"[^\n]*smart/i);
  }, 120_000);
});
