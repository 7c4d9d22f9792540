import { describe, expect, it } from 'vitest';
import {
  desiredConfigs,
  modelDevices,
  modelFingerprint,
  type DiscoveryModel,
} from '../../../discovery/model.js';
import { payloadHash } from '../../../discovery/hash.js';
import type { DiscoveryConfig } from '../../../discovery/entity.js';
import { Pacer } from '../../../discovery/pacer.js';
import {
  DiscoveryPublisher,
  type DiscoveryPublisherOptions,
} from '../../../discovery/publisher.js';
import { MemoryDiscoveryRegistry } from '../../../discovery/registry.js';
import { ManualClock } from '../../../src/core/clock.js';
import {
  ctx,
  fullModel,
  fullSite,
  modelOf,
  RecordingMqtt,
  settle,
  type SiteSpec,
} from './fixtures.js';

const all = desiredConfigs(ctx, fullModel);
const radarr = all.filter((c) => c.uniqueId.includes('_container_radarr_'));
const withoutRadarr = all.filter((c) => !radarr.includes(c));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function setup(opts: Partial<DiscoveryPublisherOptions> = {}) {
  const mqtt = new RecordingMqtt();
  const registry = new MemoryDiscoveryRegistry();
  const clock = new ManualClock(1_000);
  let desired: readonly DiscoveryConfig[] = all;
  const publisher = new DiscoveryPublisher({
    mqtt,
    registry,
    desired: () => desired,
    clock,
    log: quiet,
    prefix: 'homeassistant',
    node: 'chelsty-infra',
    sleep: () => Promise.resolve(),
    ...opts,
  });
  return {
    mqtt,
    registry,
    clock,
    publisher,
    setDesired: (d: readonly DiscoveryConfig[]) => (desired = d),
  };
}

describe('Pacer', () => {
  it('spaces messages at the configured rate on the injected clock', async () => {
    const clock = new ManualClock(0);
    const pacer = new Pacer({ rate: 200, clock });
    const taken: number[] = [];
    for (let i = 0; i < 4; i++) void pacer.take().then(() => taken.push(clock.now()));
    await settle();
    expect(taken).toEqual([0]);
    clock.advance(4);
    await settle();
    expect(taken).toEqual([0]);
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await settle();
      clock.advance(4);
      await settle();
    }
    expect(taken).toEqual([0, 5, 10, 15]);
  });

  it('rejects waiting takes once stopped', async () => {
    const clock = new ManualClock(0);
    const pacer = new Pacer({ rate: 1, clock });
    await pacer.take();
    const waiting = pacer.take();
    pacer.stop();
    await expect(waiting).rejects.toThrow(/stopped/);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('DiscoveryPublisher', () => {
  it('paces the first publication at 200 msg/s with a manual clock', async () => {
    const { mqtt, registry, clock, publisher } = setup({
      sleep: undefined,
      desired: () => all.slice(0, 5),
    });
    await publisher.start();
    await settle();
    expect(mqtt.sent).toHaveLength(1);
    for (let i = 2; i <= 5; i++) {
      clock.advance(5);
      await settle();
      expect(mqtt.sent).toHaveLength(i);
    }
    await settle();
    expect(registry.list()).toHaveLength(5);
    expect(mqtt.sent[0]).toEqual({
      topic: all[0]!.topic,
      payload: JSON.stringify(all[0]!.payload),
      opts: { qos: 1, retain: true },
    });
    await publisher.stop();
  });

  it('publishes only changes, then prunes after 3 successful absent observations', async () => {
    const { mqtt, registry, publisher, setDesired } = setup();
    expect((await publisher.sync()).published).toBe(all.length);
    mqtt.sent.length = 0;
    expect(await publisher.sync()).toMatchObject({ published: 0, removed: 0 });
    expect(mqtt.sent).toEqual([]);

    setDesired(withoutRadarr);
    await publisher.sync({ observationOk: true });
    await publisher.sync({ observationOk: false });
    await publisher.sync({ observationOk: true });
    expect(mqtt.sent).toEqual([]);
    const last = await publisher.sync({ observationOk: true });
    expect(last).toMatchObject({ removed: radarr.length, clearedStates: 1 });
    expect(mqtt.sent.map((m) => [m.topic, m.payload])).toEqual([
      ...radarr.map((c) => [c.topic, '']).sort(),
      ['outpost/chelsty-infra/hosts/nas/containers/radarr', ''],
    ]);
    expect(mqtt.sent.every((m) => m.opts?.retain === true && m.opts.qos === 1)).toBe(true);
    expect(registry.list()).toHaveLength(withoutRadarr.length);
  });

  it('republishes every config then every state when HA comes online', async () => {
    const states = [{ topic: 'outpost/chelsty-infra/watchdog', payload: '{"healthy":true}' }];
    const { mqtt, publisher } = setup({ currentStates: () => states });
    await publisher.start();
    await settle();
    mqtt.sent.length = 0;
    mqtt.deliver('homeassistant/status', 'offline');
    await settle();
    expect(mqtt.sent).toEqual([]);
    mqtt.deliver('homeassistant/status', 'online');
    await settle(10);
    expect(mqtt.sent.map((m) => m.topic)).toEqual([...all.map((c) => c.topic), states[0]!.topic]);
    await publisher.stop();
    mqtt.deliver('homeassistant/status', 'online');
    expect(mqtt.handlers.get('homeassistant/status')).toEqual([]);
  });

  it('keeps failed publishes out of the registry and retries them', async () => {
    const { mqtt, registry, publisher } = setup();
    mqtt.failTopics.add(all[0]!.topic);
    expect((await publisher.sync()).failed).toBe(1);
    expect(registry.get(all[0]!.topic)).toBeUndefined();
    mqtt.failTopics.clear();
    expect((await publisher.sync()).published).toBe(1);
    expect(registry.get(all[0]!.topic)).toBeDefined();
  });

  it('cleans retained configs of our node that nothing accounts for', async () => {
    const { mqtt, publisher } = setup();
    await publisher.sync();
    mqtt.sent.length = 0;
    const stale = 'homeassistant/sensor/outpost_chelsty-infra/old_thing/config';
    const removed = await publisher.cleanupFromBroker([
      ...all.map((c) => c.topic),
      stale,
      'homeassistant/sensor/outpost_other-node/old_thing/config',
      'homeassistant/sensor/outpost_chelsty-infra-2/x/config',
      'homeassistant/sensor/not-a-config',
    ]);
    expect(removed).toEqual([stale]);
    expect(mqtt.sent).toEqual([{ topic: stale, payload: '', opts: { qos: 1, retain: true } }]);
  });
});

describe('DiscoveryPublisher in device-based mode', () => {
  const nasDevice = 'homeassistant/device/outpost_chelsty-infra/host_nas/config';

  it('publishes one message per device', async () => {
    const { mqtt, registry, publisher } = setup({ deviceBased: true });
    await publisher.sync();
    expect(mqtt.sent.map((m) => m.topic)).toEqual([
      'homeassistant/device/outpost_chelsty-infra/agent/config',
      'homeassistant/device/outpost_chelsty-infra/host_local/config',
      nasDevice,
    ]);
    const nas = JSON.parse(mqtt.sent[2]!.payload);
    expect(nas.device.identifiers).toEqual(['outpost_chelsty-infra_nas']);
    expect(nas.components.nas_container_radarr_running.platform).toBe('binary_sensor');
    expect(registry.get(radarr[0]!.topic)?.deviceTopic).toBe(nasDevice);
  });

  it('removes a pruned component with a platform-only marker, then without it', async () => {
    const { mqtt, publisher, setDesired } = setup({ deviceBased: true, pruneAfter: 1 });
    await publisher.sync();
    mqtt.sent.length = 0;
    setDesired(withoutRadarr);
    await publisher.sync();
    const [marked, clean, state] = mqtt.sent;
    expect(marked!.topic).toBe(nasDevice);
    const components = JSON.parse(marked!.payload).components;
    expect(components.nas_container_radarr_state).toEqual({ platform: 'sensor' });
    expect(JSON.parse(clean!.payload).components).not.toHaveProperty('nas_container_radarr_state');
    expect(state).toMatchObject({
      topic: 'outpost/chelsty-infra/hosts/nas/containers/radarr',
      payload: '',
    });
  });

  it('migrates from single-component discovery without losing entities', async () => {
    const mqtt = new RecordingMqtt();
    const registry = new MemoryDiscoveryRegistry();
    const base = {
      mqtt,
      registry,
      desired: () => all.slice(0, 2),
      clock: new ManualClock(0),
      log: quiet,
    };
    const opts = {
      ...base,
      prefix: 'homeassistant',
      node: 'chelsty-infra',
      sleep: () => Promise.resolve(),
    };
    await new DiscoveryPublisher(opts).sync();
    mqtt.sent.length = 0;
    await new DiscoveryPublisher({ ...opts, deviceBased: true }).sync();
    const migrate = '{"migrate_discovery":true}';
    expect(
      mqtt.sent.map((m) => [
        m.topic,
        m.payload === migrate ? 'migrate' : m.payload === '' ? '' : 'config',
      ]),
    ).toEqual([
      [all[0]!.topic, 'migrate'],
      [all[1]!.topic, 'migrate'],
      ['homeassistant/device/outpost_chelsty-infra/agent/config', 'config'],
      [all[0]!.topic, ''],
      [all[1]!.topic, ''],
    ]);
    mqtt.sent.length = 0;
    await new DiscoveryPublisher(opts).sync();
    expect(mqtt.sent.map((m) => m.topic)).toEqual([
      'homeassistant/device/outpost_chelsty-infra/agent/config',
      all[0]!.topic,
      all[1]!.topic,
      'homeassistant/device/outpost_chelsty-infra/agent/config',
    ]);
    expect(mqtt.sent[0]!.payload).toBe(migrate);
    expect(mqtt.sent[3]!.payload).toBe('');
    expect(registry.list().every(([, e]) => e.deviceTopic === undefined)).toBe(true);
  });
});

describe('Pacer at a rate that is not a whole number of milliseconds', () => {
  it('keeps the configured average rate (300/s: 3.33 ms apart, not 4)', async () => {
    const clock = new ManualClock(0);
    const pacer = new Pacer({ rate: 300, clock });
    let taken = 0;
    const all: Promise<void>[] = [];
    for (let i = 0; i < 301; i++) all.push(pacer.take().then(() => void taken++));
    // Step the clock 1 ms at a time for one second.
    for (let t = 0; t < 1000; t++) {
      await settle();
      clock.advance(1);
    }
    await settle();
    expect(taken).toBeGreaterThanOrEqual(300);
    pacer.stop();
    await Promise.allSettled(all);
  });
});

describe('DiscoveryPublisher with fingerprinted snapshots', () => {
  const nas = fullSite.hosts[1]!;
  const withSonarr: DiscoveryModel = modelOf({
    ...fullSite,
    hosts: [fullSite.hosts[0]!, { ...nas, containers: [{ name: 'radarr' }, { name: 'sonarr' }] }],
  });
  const sonarrOnly: DiscoveryModel = modelOf({
    ...fullSite,
    hosts: [fullSite.hosts[0]!, { ...nas, containers: [{ name: 'sonarr' }] }],
  });
  const sonarrRenamed: DiscoveryModel = modelOf({
    ...fullSite,
    hosts: [fullSite.hosts[0]!, { ...nas, containers: [{ name: 'sonarr', displayName: 'TV' }] }],
  });

  /** A publisher fed by models, recording which device of which model is built. */
  function fromModels(opts: Partial<DiscoveryPublisherOptions> = {}) {
    let model = withSonarr;
    const builds: Array<{ model: DiscoveryModel; device: string }> = [];
    const s = setup({
      desired: () => {
        const m = model;
        return {
          devices: [...modelDevices(ctx, m)].map((d) => ({
            ...d,
            build: () => {
              builds.push({ model: m, device: d.id });
              return d.build();
            },
          })),
        };
      },
      ...opts,
    });
    return { ...s, builds, setModel: (m: DiscoveryModel) => (model = m) };
  }

  it('skips building configs while the model is unchanged', async () => {
    const { mqtt, publisher, builds } = fromModels();
    await publisher.sync();
    const afterFirst = builds.length;
    expect(afterFirst).toBeGreaterThan(0);
    mqtt.sent.length = 0;
    expect(await publisher.sync()).toMatchObject({ published: 0, removed: 0, held: 0 });
    expect(await publisher.sync()).toMatchObject({ published: 0, removed: 0, held: 0 });
    expect(builds).toHaveLength(afterFirst);
    expect(mqtt.sent).toEqual([]);
  });

  it('builds only the device whose inputs changed', async () => {
    const { mqtt, publisher, builds, setModel } = fromModels();
    await publisher.sync();
    expect(builds.map((b) => b.device)).toEqual([
      'outpost_chelsty-infra',
      'outpost_chelsty-infra_local',
      'outpost_chelsty-infra_nas',
    ]);
    builds.length = 0;
    mqtt.sent.length = 0;
    setModel(
      modelOf({
        ...fullSite,
        hosts: [
          fullSite.hosts[0]!,
          { ...nas, containers: [{ name: 'radarr' }, { name: 'sonarr', displayName: 'TV' }] },
        ],
      }),
    );
    const round = await publisher.sync();
    expect(builds.map((b) => b.device)).toEqual(['outpost_chelsty-infra_nas']);
    // Sonarr's entities carry its new label; nothing else moves.
    expect(round).toMatchObject({ published: mqtt.sent.length, held: 0, removed: 0 });
    expect(round.published).toBeGreaterThan(0);
    expect(mqtt.sent.map((m) => m.topic).every((t) => t.includes('/nas_container_sonarr_'))).toBe(
      true,
    );
  });

  it('builds again when the model changes, and retries a round that failed', async () => {
    const { mqtt, registry, publisher, builds, setModel } = fromModels();
    await publisher.sync();
    setModel(sonarrRenamed);
    const sonarrState = desiredConfigs(ctx, sonarrRenamed).find((c) =>
      c.uniqueId.endsWith('_container_sonarr_state'),
    )!;
    mqtt.failTopics.add(sonarrState.topic);
    expect((await publisher.sync()).failed).toBe(1);
    mqtt.failTopics.clear();
    // Same model as the failed round: it is built and compared again, not skipped.
    expect(await publisher.sync()).toMatchObject({ published: 1, failed: 0 });
    expect(builds.length).toBeGreaterThanOrEqual(3);
    expect(registry.get(sonarrState.topic)?.hash).toBe(payloadHash(sonarrState.payload));
  });

  it('keeps counting absences with an unchanged model, then prunes', async () => {
    const { mqtt, publisher, setModel } = fromModels();
    await publisher.sync();
    setModel(sonarrOnly);
    for (let i = 0; i < 2; i++) expect((await publisher.sync()).held).toBe(radarr.length);
    mqtt.sent.length = 0;
    expect((await publisher.sync()).removed).toBe(radarr.length);
    expect(mqtt.sent.map((m) => m.topic)).toEqual(
      expect.arrayContaining(radarr.map((c) => c.topic)),
    );
    expect(publisher.holding).toBe(false);
  });

  it('rebuilds a held entity from the last snapshot that had it (device messages keep it)', async () => {
    const { mqtt, publisher, builds, setModel } = fromModels({ deviceBased: true });
    await publisher.sync();
    setModel(sonarrOnly);
    const before = builds.length;
    await publisher.sync();
    // The round where radarr went missing built the previous model again for its configs.
    expect(builds.slice(before).map((b) => b.model)).toContain(withSonarr);
    mqtt.sent.length = 0;
    setModel(sonarrRenamed);
    await publisher.sync();
    const device = mqtt.sent.find((m) => m.topic.endsWith('/host_nas/config'))!;
    const parsed = JSON.parse(device.payload) as { components: Record<string, unknown> };
    const components = Object.keys(parsed.components);
    expect(components).toEqual(expect.arrayContaining(['nas_container_radarr_running']));
    expect(components).toEqual(expect.arrayContaining(['nas_container_sonarr_running']));
  });

  it('keeps only the latest round for rebuilding: a device left unchanged drops older models', async () => {
    // Each device's last build holds the whole model it came from (every host's
    // containers): devices built in different rounds would otherwise keep one each.
    const { publisher, builds, setModel } = fromModels({ deviceBased: true });
    await publisher.sync();
    const same: DiscoveryModel = { ...withSonarr };
    setModel(same);
    const before = builds.length;
    await publisher.sync();
    expect(builds).toHaveLength(before);
    setModel(sonarrOnly);
    await publisher.sync();
    const rebuilt = builds.slice(before).filter((b) => b.model !== sonarrOnly);
    expect(rebuilt.map((b) => b.device)).toContain('outpost_chelsty-infra_nas');
    expect(rebuilt.every((b) => b.model === same)).toBe(true);
  });
});

describe('DiscoveryPublisher streaming', () => {
  /** Logs each device as it is built and each message as it is sent, in one timeline. */
  function timeline(deviceBased: boolean) {
    const log: string[] = [];
    const mqtt = new RecordingMqtt();
    const publish = mqtt.publish.bind(mqtt);
    mqtt.publish = (topic, payload, opts) => {
      log.push(`send ${topic}`);
      return publish(topic, payload, opts);
    };
    const { publisher } = setup({
      mqtt,
      deviceBased,
      desired: () => ({
        devices: [...modelDevices(ctx, fullModel)].map((d) => ({
          ...d,
          build: () => {
            log.push(`build ${d.id}`);
            return d.build();
          },
        })),
      }),
    });
    return { log, publisher };
  }

  it.each([false, true])(
    'builds each device once, only when its messages are due (device-based: %s)',
    async (deviceBased) => {
      const { log, publisher } = timeline(deviceBased);
      await publisher.sync();
      const builds = log.flatMap((l, i) => (l.startsWith('build') ? [i] : []));
      expect(builds).toHaveLength(3);
      const [first, second, third] = builds;
      const sendsBetween = (a: number, b: number) =>
        log.slice(a + 1, b).filter((l) => l.startsWith('send')).length;
      expect(sendsBetween(first!, second!)).toBeGreaterThan(0);
      expect(sendsBetween(second!, third!)).toBeGreaterThan(0);
      expect(sendsBetween(third!, log.length)).toBeGreaterThan(0);
    },
  );

  it('keeps at most the in-flight window of sends unacknowledged', async () => {
    const mqtt = new RecordingMqtt();
    const waiting: Array<() => void> = [];
    let most = 0;
    const publish = mqtt.publish.bind(mqtt);
    mqtt.publish = (topic, payload, opts) =>
      publish(topic, payload, opts).then(
        () =>
          new Promise<void>((resolve) => {
            waiting.push(resolve);
            most = Math.max(most, waiting.length);
          }),
      );
    const { publisher } = setup({ mqtt, inFlight: 4 });
    const round = publisher.sync();
    // Acknowledge whatever waits, a little at a time, until the round is over.
    let over = false;
    void round.then(() => (over = true));
    while (!over) {
      await settle();
      waiting.splice(0, 2).forEach((ack) => ack());
    }
    expect((await round).published).toBe(all.length);
    expect(most).toBe(4);
  });
});

describe('modelFingerprint', () => {
  const configsJson = (m: DiscoveryModel) => JSON.stringify(desiredConfigs(ctx, m));
  const local = fullSite.hosts[0]!;
  const sites: Array<[string, SiteSpec]> = [
    ['the same model', { ...fullSite }],
    [
      'a label discovery does not read',
      {
        ...fullSite,
        hosts: [
          {
            ...local,
            containers: local.containers!.map((c) => ({
              ...c,
              labels: { ...c.labels, 'org.opencontainers.image.version': '2.0' },
            })),
          },
          fullSite.hosts[1]!,
        ],
      },
    ],
    [
      'a compose service label',
      {
        ...fullSite,
        hosts: [
          {
            ...local,
            containers: local.containers!.map((c) => ({
              ...c,
              labels: { ...c.labels, 'com.docker.compose.service': 'zigbee' },
            })),
          },
          fullSite.hosts[1]!,
        ],
      },
    ],
    [
      'a restart button',
      {
        ...fullSite,
        hosts: [
          { ...local, containers: local.containers!.map((c) => ({ ...c, withRestart: false })) },
          fullSite.hosts[1]!,
        ],
      },
    ],
    [
      'a pending action',
      { ...fullSite, remediation: { ...(fullSite.remediation || {}), pending: [] } },
    ],
    ['a host name', { ...fullSite, hosts: [{ ...local, name: 'Box' }, fullSite.hosts[1]!] }],
  ];
  const variants = sites.map(([name, site]): [string, DiscoveryModel] => [name, modelOf(site)]);

  it.each(variants)('changes exactly when the configs change: %s', (_, variant) => {
    const sameConfigs = configsJson(variant) === configsJson(fullModel);
    const sameFingerprint = modelFingerprint(variant) === modelFingerprint(fullModel);
    expect(sameFingerprint).toBe(sameConfigs);
  });

  it.each(variants)(
    "a device's fingerprint changes exactly when its configs change: %s",
    (_, variant) => {
      const before = new Map([...modelDevices(ctx, fullModel)].map((d) => [d.id, d]));
      const after = [...modelDevices(ctx, variant)];
      expect(after.map((d) => d.id)).toEqual([...before.keys()]);
      for (const d of after) {
        const was = before.get(d.id)!;
        const sameConfigs = JSON.stringify(d.build()) === JSON.stringify(was.build());
        expect({ device: d.id, same: d.fingerprint === was.fingerprint }).toEqual({
          device: d.id,
          same: sameConfigs,
        });
      }
    },
  );
});
