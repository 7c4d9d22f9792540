import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelDevices, type DiscoveryModel } from '../../../discovery/model.js';
import { DiscoveryPublisher } from '../../../discovery/publisher.js';
import {
  MemoryDiscoveryRegistry,
  SqliteDiscoveryRegistry,
  type DiscoveryRegistry,
} from '../../../discovery/registry.js';
import { registryFileText } from '../../../discovery/registry-json.js';
import { ManualClock } from '../../../src/core/clock.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { ctx, fullModel, fullSite, modelOf, RecordingMqtt } from './fixtures.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One run of the agent's discovery: a publisher over `registry` for `model`. */
function agentRun(registry: DiscoveryRegistry, model: DiscoveryModel) {
  const mqtt = new RecordingMqtt();
  const publisher = new DiscoveryPublisher({
    mqtt,
    registry,
    desired: () => ({ devices: modelDevices(ctx, model) }),
    clock: new ManualClock(0),
    log: quiet,
    prefix: 'homeassistant',
    node: 'chelsty-infra',
    sleep: () => Promise.resolve(),
  });
  return { mqtt, publisher };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

async function dataDir(): Promise<string> {
  const dir = await makeTempDir('discovery-restart');
  dirs.push(dir);
  return dir;
}

const withoutNas = modelOf({ ...fullSite, hosts: [fullSite.hosts[0]!] });

describe('discovery across a restart, on the SQLite registry', () => {
  it('publishes nothing when nothing changed, and only what changed otherwise', async () => {
    const db = join(await dataDir(), 'discovery.db');
    const first = agentRun(await SqliteDiscoveryRegistry.open(db), fullModel);
    const published = (await first.publisher.sync()).published;
    expect(published).toBe(first.mqtt.sent.length);
    await first.publisher.stop();

    const second = agentRun(await SqliteDiscoveryRegistry.open(db), fullModel);
    // The first round after a start, as the agent runs it.
    expect(await second.publisher.sync({ observationOk: false })).toEqual({
      published: 0,
      removed: 0,
      clearedStates: 0,
      held: 0,
      failed: 0,
    });
    expect(second.mqtt.sent).toEqual([]);
    await second.publisher.stop();

    // The nas host taken out of config: its entities and states go, nothing else is sent.
    const third = agentRun(await SqliteDiscoveryRegistry.open(db), withoutNas);
    const round = await third.publisher.sync({ observationOk: false });
    expect(round.published).toBe(0);
    expect(round.removed).toBeGreaterThan(0);
    expect(third.mqtt.sent.length).toBe(round.removed + round.clearedStates);
    expect(third.mqtt.sent.every((m) => m.payload === '' && /[/_]nas([/_]|$)/.test(m.topic))).toBe(
      true,
    );
    await third.publisher.stop();
    const left = await SqliteDiscoveryRegistry.open(db);
    expect(left.deviceIds()).not.toContain('outpost_chelsty-infra_nas');
    left.close();
  });

  it('takes over an older JSON registry: nothing republished, nothing orphaned', async () => {
    const dir = await dataDir();
    // What an older version left: its registry file, written after a full round.
    const memory = new MemoryDiscoveryRegistry();
    const before = agentRun(memory, fullModel);
    await before.publisher.sync();
    const file = join(dir, 'discovery.json');
    await writeFile(file, registryFileText(new Map(memory.list())));

    const registry = await SqliteDiscoveryRegistry.open(join(dir, 'discovery.db'), {
      migrateFrom: file,
    });
    expect(existsSync(file)).toBe(false);
    const after = agentRun(registry, withoutNas);
    const round = await after.publisher.sync({ observationOk: false });
    // The nas host's entities were recorded in the file: removed, not left behind.
    expect(round).toMatchObject({ published: 0, failed: 0 });
    expect(round.removed).toBe(memory.device('outpost_chelsty-infra_nas').length);
    expect(after.mqtt.sent.every((m) => m.payload === '')).toBe(true);
    await after.publisher.stop();
  });

  it('files entries recorded without their device under it, and prunes the rest', async () => {
    const dir = await dataDir();
    const memory = new MemoryDiscoveryRegistry();
    await agentRun(memory, fullModel).publisher.sync();
    // Entries written before the registry recorded devices, plus one nothing produces.
    const old = new Map(
      memory.list().map(([t, e]) => [t, { hash: e.hash, stateTopics: e.stateTopics }]),
    );
    const gone = 'homeassistant/sensor/outpost_chelsty-infra/old_thing/config';
    old.set(gone, { hash: 'x', stateTopics: [] });
    const file = join(dir, 'discovery.json');
    await writeFile(file, registryFileText(old));
    const registry = await SqliteDiscoveryRegistry.open(join(dir, 'discovery.db'), {
      migrateFrom: file,
    });
    const run = agentRun(registry, fullModel);
    expect(await run.publisher.sync({ observationOk: false })).toMatchObject({
      published: 0,
      held: 1,
    });
    expect(registry.device('')).toEqual([[gone, { hash: 'x', stateTopics: [] }]]);
    for (let i = 0; i < 2; i++) await run.publisher.sync();
    expect(run.mqtt.sent).toEqual([]);
    expect(await run.publisher.sync()).toMatchObject({ published: 0, removed: 1 });
    expect(run.mqtt.sent).toEqual([{ topic: gone, payload: '', opts: { qos: 1, retain: true } }]);
    expect(registry.deviceIds()).not.toContain('');
    await run.publisher.stop();
  });
});
