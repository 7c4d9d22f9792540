import { describe, expect, it } from 'vitest';
import { BirthRounds } from '../../../discovery/birth-rounds.js';
import { desiredConfigs } from '../../../discovery/model.js';
import { DiscoveryPublisher } from '../../../discovery/publisher.js';
import { MemoryDiscoveryRegistry } from '../../../discovery/registry.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { ManualClock } from '../../../src/core/clock.js';
import { ctx, fullModel, RecordingMqtt, settle } from './fixtures.js';

const COOLDOWN = 30_000;

/** Rounds start when queued (as an idle publisher would), each answering the births before it. */
function rounds(cooldownMs = COOLDOWN) {
  const clock = new ManualClock(5_000);
  const started: { at: number; births: number }[] = [];
  const deferred: number[] = [];
  const gate: BirthRounds = new BirthRounds({
    clock,
    cooldownMs,
    queue: () => started.push({ at: clock.now(), births: gate.began() }),
    deferred: (ms) => deferred.push(ms),
  });
  return { clock, gate, started, deferred };
}

describe('BirthRounds', () => {
  it('answers the first birth at once, and a flood during the cooldown with one more round', () => {
    const { clock, gate, started, deferred } = rounds();
    gate.birth();
    expect(started).toEqual([{ at: 5_000, births: 1 }]);
    clock.advance(1_000);
    for (let i = 0; i < 999; i++) gate.birth();
    expect(started).toHaveLength(1);
    expect(deferred).toEqual([29_000]); // told once, not per birth
    clock.advance(28_999);
    expect(started).toHaveLength(1);
    clock.advance(1);
    expect(started).toEqual([
      { at: 5_000, births: 1 },
      { at: 35_000, births: 999 },
    ]);
    expect(clock.pendingTimers).toBe(0);
    // Nothing owed: no round without a birth.
    clock.advance(10 * COOLDOWN);
    expect(started).toHaveLength(2);
  });

  it('a steady flood gets one round per cooldown, never two within one', () => {
    const { clock, gate, started } = rounds();
    for (let ms = 0; ms < 300_000; ms += 100) {
      gate.birth();
      clock.advance(100);
    }
    clock.advance(COOLDOWN);
    const gaps = started.slice(1).map((s, i) => s.at - started[i]!.at);
    expect(started).toHaveLength(11); // at 0, 30 s, … 300 s: the last births too get a round
    expect(gaps.every((g) => g === COOLDOWN)).toBe(true);
    expect(started.reduce((n, s) => n + s.births, 0)).toBe(3_000);
  });

  it('a birth after the cooldown starts a round at once', () => {
    const { clock, gate, started, deferred } = rounds();
    gate.birth();
    clock.advance(COOLDOWN);
    gate.birth();
    expect(started.map((s) => s.at)).toEqual([5_000, 35_000]);
    expect(deferred).toEqual([]);
  });

  it('a cooldown of 0 answers each birth outside a queued round', () => {
    const { gate, started } = rounds(0);
    for (let i = 0; i < 5; i++) gate.birth();
    expect(started).toHaveLength(5);
  });

  it('stop drops the round it owes', () => {
    const { clock, gate, started } = rounds();
    gate.birth();
    gate.birth();
    gate.stop();
    clock.advance(COOLDOWN);
    expect(started).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('DiscoveryPublisher and a flood of HA birth messages', () => {
  it('1,000 births make two republish rounds, not 1,000', async () => {
    const all = desiredConfigs(ctx, fullModel);
    const mqtt = new RecordingMqtt();
    const clock = new ManualClock(1_000);
    const infos: { obj: object; msg: string }[] = [];
    const publisher = new DiscoveryPublisher({
      mqtt,
      registry: new MemoryDiscoveryRegistry(),
      desired: () => all,
      clock,
      log: {
        info: (obj, msg) => infos.push({ obj, msg }),
        warn: () => undefined,
        error: () => undefined,
      },
      prefix: 'homeassistant',
      node: 'chelsty-infra',
      sleep: () => Promise.resolve(),
      birthCooldownMs: COOLDOWN,
    });
    await publisher.start();
    await settle();
    mqtt.sent.length = 0;
    for (let i = 0; i < 1_000; i++) {
      mqtt.deliver('homeassistant/status', 'online');
      if (i % 100 === 0) await settle(2); // some arrive while the first round runs
    }
    await settle(10);
    const roundsOf = () => mqtt.sent.filter((m) => m.topic === all[0]!.topic).length;
    expect(roundsOf()).toBe(1);
    expect(mqtt.sent).toHaveLength(all.length);
    clock.advance(COOLDOWN);
    await settle(10);
    expect(roundsOf()).toBe(2);
    expect(mqtt.sent).toHaveLength(2 * all.length);
    const births = infos.filter((i) => i.msg.startsWith('republishing for'));
    expect(births.map((b) => b.obj)).toEqual([{ births: 1 }, { births: 999 }]);
    clock.advance(10 * COOLDOWN);
    await settle(10);
    expect(roundsOf()).toBe(2);
    await publisher.stop();
  });
});

describe('discovery.birth_cooldown config', () => {
  it('defaults to 30s and names what it refuses', () => {
    expect(parseConfig('node: { id: n1 }', { env: {} }).config.discovery.birth_cooldown).toBe(
      30_000,
    );
    expect(() => parseConfig('discovery: { birth_cooldown: soon }', { env: {} })).toThrow(
      ConfigError,
    );
    try {
      parseConfig('discovery: { birth_cooldown: soon }', { env: {} });
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
        expect.stringMatching(/^discovery\.birth_cooldown: expected a duration such as "30s"/),
      ]);
    }
  });
});
