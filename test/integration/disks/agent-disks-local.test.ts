import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRef } from '../../../src/core/events.js';
import { spawnEdgeAgent, type AgentProcess } from '../../helpers/agent.js';
import { skipWithout } from '../../helpers/capability.js';
import { eventually } from '../../helpers/eventually.js';
import { cannotMount, fillDisk, mountTmpfs } from '../../helpers/mounts.js';
import { retained } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { diskEvents, diskState, diskTopics, setFill, unmount } from './helpers.js';

/**
 * Issue #16 end to end on this machine: the agent as it ships (launcher, embedded broker)
 * watches a real tmpfs the test fills. Levels rise at their thresholds and clear only the
 * hysteresis margin below them, one incident spans the outage, Home Assistant gets the
 * mount's entities, and they vanish when the mount does. Needs root (mount); in CI it fails
 * rather than skip.
 */
const noMount = skipWithout(
  'a tmpfs mount (disk levels on a real filesystem)',
  await cannotMount(),
);

const MiB = 1024 * 1024;

describe.skipIf(noMount)('disks of the local machine, through the agent', () => {
  let agent: AgentProcess;
  let tmp: string;
  let disk: string;
  let url: string;
  let t: ReturnType<typeof diskTopics>;

  beforeAll(async () => {
    tmp = await makeTempDir('disks-local');
    disk = join(tmp, 'data');
    await mountTmpfs(disk, '4m');
    writeFileSync(join(disk, 'filler'), '');
    t = diskTopics('local', disk);
    // Only the test's tmpfs (a tmpfs is watched only when a glob names it): the machine's
    // own disks would make the levels depend on whoever else fills them.
    ({ agent, url } = await spawnEdgeAgent(
      () => `discovery: { prune_after: 1 }
hosts: [{ id: local }]
disks:
  poll_every: 500ms
  include: ["${disk}"]
  warn: 50
  critical: 80
  hysteresis: 10
`,
    ));
  }, 60_000);

  afterAll(async () => {
    await agent?.cleanup();
    if (tmp) await removeTempDir(tmp);
  });

  it('publishes the mount’s entities and numbers on the host device', async () => {
    const configs = await eventually(async () => {
      const m = await retained(url, 'homeassistant/+/outpost_edge/+/config');
      expect(m.has(t.problem)).toBe(true);
      return m;
    });
    expect(JSON.parse(configs.get(t.usedPct)!)).toMatchObject({
      unit_of_measurement: '%',
      state_class: 'measurement',
      state_topic: t.state,
      device: { identifiers: ['outpost_edge_local'] },
    });
    expect(JSON.parse(configs.get(t.free)!)).toMatchObject({ device_class: 'data_size' });
    expect(JSON.parse(configs.get(t.timeToFull)!)).toMatchObject({ device_class: 'duration' });
    expect(JSON.parse(configs.get(t.problem)!)).toMatchObject({ device_class: 'problem' });
    // Nothing but the included mount: no pseudo filesystem, not the machine's own disks.
    const disks = [...configs.keys()].filter((k) => k.includes('_disk_') && k.includes('used_pct'));
    expect(disks).toEqual([t.usedPct]);
    const s = await diskState(url, t.state);
    expect(s).toMatchObject({ mount: disk, fstype: 'tmpfs', size: 4 * MiB, level: 'ok' });
    expect(s!.used_pct).toBeLessThan(5);
    expect(s!.free).toBeGreaterThan(3.9 * MiB);
  });

  it('rises to warn and critical at the thresholds, inside one incident', async () => {
    setFill(disk, 2.4 * MiB); // 60 %
    await eventually(async () =>
      expect(await diskState(url, t.state)).toMatchObject({ level: 'warn', problem: true }),
    );
    fillDisk(disk); // 100 %
    await eventually(async () =>
      expect(await diskState(url, t.state)).toMatchObject({
        level: 'critical',
        used_pct: 100,
        free: 0,
      }),
    );
    const events = await eventually(async () => {
      const es = await diskEvents(agent);
      expect(es.map((e) => `${e.type}:${e.severity}`)).toEqual([
        'disk_pressure:warning',
        'disk_pressure:critical',
      ]);
      return es;
    });
    const [warn, critical] = events;
    expect(warn!.subject).toBe(`local:${disk}`);
    expect(warn!.data.title).toMatch(/^local:\/.* is 6\d % full$/);
    expect(warn!.data.message).toMatch(/ % full \(warning at 50 %\): .* free of 4\.0 MiB$/);
    expect(critical!.data.title).toBe(`local:${disk} is 100 % full`);
    const ref = (i: number) => events[i]!.data.incident as IncidentRef;
    expect(ref(1).id).toBe(ref(0).id);
    expect(ref(1).status).toBe('open');
  });

  it('clears a level only the hysteresis margin below its threshold; the recovery closes the incident', async () => {
    setFill(disk, 3 * MiB); // 75 %: under critical (80) but not 10 points under it
    await eventually(async () => {
      const s = await diskState(url, t.state);
      expect(s!.used_pct).toBeGreaterThan(74);
      expect(s!.used_pct).toBeLessThan(78);
    });
    expect(await diskState(url, t.state)).toMatchObject({ level: 'critical' });
    setFill(disk, 1.8 * MiB); // 45 %: out of critical, still inside warn's margin (40)
    await eventually(async () => {
      const s = await diskState(url, t.state);
      expect(s!.used_pct).toBeLessThan(50);
    });
    expect(await diskState(url, t.state)).toMatchObject({ level: 'warn', problem: true });
    setFill(disk, 0.8 * MiB); // 20 %
    await eventually(async () =>
      expect(await diskState(url, t.state)).toMatchObject({ level: 'ok', problem: false }),
    );
    const events = await eventually(async () => {
      const es = await diskEvents(agent);
      expect(es.map((e) => e.type)).toEqual([
        'disk_pressure',
        'disk_pressure',
        'disk_pressure',
        'disk_recovered',
      ]);
      return es;
    });
    expect(events[2]!.data.title).toBe(`local:${disk} is below critical`);
    const recovered = events[3]!;
    expect(recovered.data.title).toBe(`local:${disk} recovered`);
    expect(recovered.data.incident).toMatchObject({
      id: (events[0]!.data.incident as IncidentRef).id,
      status: 'closed',
    });
  });

  it('a mount that goes away vanishes from Home Assistant', async () => {
    await unmount(disk);
    await eventually(async () => {
      const m = await retained(url, 'homeassistant/+/outpost_edge/+/config');
      expect([...m.keys()].filter((k) => k.includes('_disk_'))).toEqual([]);
    });
    expect(await diskState(url, t.state)).toBeUndefined();
  });
});
