import { afterEach, describe, expect, it } from 'vitest';
import { UNLIMITED, type RateLimits } from '../../../bridges/uplink/rate-limit.js';
import { UplinkBridge, type UplinkBridgeOptions } from '../../../bridges/uplink/uplink-bridge.js';
import { toWireEvent } from '../../../src/core/events.js';
import { events, FakeLocal, FakeUpstream, log, settle, T0, tempStore, until } from './fakes.js';

const ROOT = { base: 'outpost', node: 'site-a' };
const EVENTS_UP = 'sites/site-a/outpost/site-a/events';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(limits: RateLimits, opts: Partial<UplinkBridgeOptions> = {}) {
  const s = await tempStore();
  const upstream = new FakeUpstream();
  const bridge = new UplinkBridge({
    store: s.store,
    upstream,
    root: ROOT,
    topicPrefix: 'sites/site-a',
    limits,
    window: 20,
    clock: s.clock,
    log,
    ...opts,
  });
  cleanup.push(async () => {
    upstream.ackAll();
    upstream.autoAck = true;
    await bridge.stop();
    await s.close();
  });
  return { ...s, upstream, bridge };
}

/** Event ids with later duplicates removed: what a downstream dedup by id keeps. */
function firstOccurrences(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

describe('UplinkBridge', () => {
  it('publishes every event under the prefix, QoS 1, with its id in payload and user property', async () => {
    const { store, upstream, bridge } = await setup(UNLIMITED);
    await bridge.start();
    const stored = await store.appendMany(events(3));
    await until(() => bridge.status().acked === 3, 'all three acknowledged');
    expect(upstream.sent.map((p) => p.topic)).toEqual([EVENTS_UP, EVENTS_UP, EVENTS_UP]);
    for (const [i, p] of upstream.sent.entries()) {
      expect(JSON.parse(p.payload)).toEqual(toWireEvent(stored[i]!));
      expect(p.opts).toEqual({
        qos: 1,
        retain: false,
        properties: { userProperties: { event_id: stored[i]!.id } },
      });
    }
    expect(await store.cursor('uplink')).toBe(3);
    expect(upstream.started).toBe(1);
  });

  it('paces the replay of a backlog at the configured message rate', async () => {
    const { store, clock, upstream, bridge } = await setup({ messagesPerS: 10, bytesPerS: 0 });
    await store.appendMany(events(35));
    await bridge.start();
    await until(() => upstream.sent.length === 10, 'the first second (the burst)');
    await settle();
    expect(upstream.sent.length).toBe(10);
    for (const expected of [20, 30, 35]) {
      clock.advance(1000);
      await until(() => upstream.sent.length === expected, `${expected} after another second`);
    }
    await until(() => bridge.status().acked === 35, 'the backlog drained');
    expect(upstream.ids()).toEqual((await store.query()).map((e) => e.id));
  });

  it('sends a live event ahead of a draining backlog, once', async () => {
    const { store, clock, upstream, bridge } = await setup({ messagesPerS: 10, bytesPerS: 0 });
    const backlog = await store.appendMany(events(100));
    await bridge.start();
    await until(() => upstream.sent.length === 10, 'the burst');
    const [live] = await store.appendMany(events(1, 100));
    clock.advance(100); // one message's worth of budget
    await until(() => upstream.sent.length === 11, 'the next message');
    expect(upstream.ids()[10]).toBe(live!.id);
    for (let i = 0; i < 12 && bridge.status().acked < 101; i++) {
      clock.advance(1000);
      await settle(20);
    }
    await until(() => bridge.status().acked === 101, 'everything acknowledged');
    const ids = upstream.ids();
    expect(ids.length).toBe(101); // the replay awaited the live send instead of repeating it
    expect(ids.filter((id) => id !== live!.id)).toEqual(backlog.map((e) => e.id));
    expect(bridge.status().overtook).toBe(1);
  });

  it('does not overtake when there is no backlog: a burst stays in order', async () => {
    const { store, upstream, bridge } = await setup(UNLIMITED);
    await bridge.start();
    const stored = [];
    for (let i = 0; i < 5; i++) stored.push(...(await store.appendMany(events(7, i * 7))));
    await until(() => bridge.status().acked === 35, 'all acknowledged');
    expect(upstream.ids()).toEqual(stored.map((e) => e.id));
  });

  it('holds while the link is down and re-sends from the lost event, in order', async () => {
    const { store, clock, upstream, bridge } = await setup(UNLIMITED);
    upstream.autoAck = false;
    const stored = await store.appendMany(events(50));
    await bridge.start();
    await until(() => upstream.sent.length === 20, 'the window');
    upstream.sent[0]!.ack();
    upstream.sent[1]!.ack();
    upstream.drop(); // the FakeUpstream throws if anything is published while it is down
    await store.appendMany(events(5, 50));
    await settle(20);
    clock.advance(60_000);
    await settle(20);
    upstream.autoAck = true;
    upstream.reconnect();
    clock.advance(60_000); // past any backoff
    await until(() => bridge.status().acked === 55, 'everything after the reconnect');
    const ids = upstream.ids();
    expect(firstOccurrences(ids)).toEqual(
      [...stored, ...(await store.query({ limit: 100 })).slice(50)].map((e) => e.id),
    );
    // The cursor moves batch by batch: the retry starts with the batch holding the first
    // unacknowledged event (seq 3), so seqs 1 and 2 come twice.
    expect(ids.slice(20, 25)).toEqual(stored.slice(0, 5).map((e) => e.id));
  });

  it('pause holds every send and the reconnects of the link; resume goes on', async () => {
    const { store, upstream, bridge } = await setup(UNLIMITED);
    await bridge.start();
    bridge.pause('watchdog: uplink down');
    expect(bridge.paused).toBe(true);
    expect(upstream.held).toBe(true);
    await store.appendMany(events(5));
    await settle(20);
    expect(upstream.sent.length).toBe(0);
    bridge.resume();
    expect(upstream.held).toBe(false);
    await until(() => bridge.status().acked === 5, 'sent after resume');
  });

  it('publishes its state: connected, paused, backlog and the oldest unsent age', async () => {
    const states: { topic: string; value: unknown }[] = [];
    const sink = {
      set: (topic: string, value: unknown) => (states.push({ topic, value }), Promise.resolve()),
    };
    const { store, clock, upstream, bridge } = await setup(UNLIMITED, {
      states: sink,
      stateEveryMs: 5000,
    });
    upstream.connected = false;
    await store.appendMany(events(4).map((e) => ({ ...e, ts: T0 - 30_000 })));
    await bridge.start();
    clock.advance(1);
    await until(() => states.length === 1, 'the first state');
    expect(states[0]).toEqual({
      topic: 'outpost/site-a/uplink',
      value: { connected: false, paused: false, backlog: 4, oldest_unsent_age_s: 30 },
    });
    upstream.reconnect();
    await until(() => bridge.status().acked === 4, 'sent once connected');
    clock.advance(5000);
    await until(() => states.length >= 3, 'the refresh');
    expect(states.at(-1)!.value).toEqual({
      connected: true,
      paused: false,
      backlog: 0,
      oldest_unsent_age_s: 0,
    });
  });

  it('forwards the node state topics upstream, retained, and again after a reconnect', async () => {
    const local = new FakeLocal();
    const { upstream, bridge } = await setup(UNLIMITED, { local, forwardStates: true });
    await bridge.start();
    expect([...local.handlers.keys()]).toEqual(['outpost/site-a/#']);
    local.deliver('outpost/site-a/hosts/local/containers/mosquitto', '{"state":"running"}');
    local.deliver('outpost/site-a/availability', 'online');
    local.deliver('outpost/site-a/events', '{"id":"x"}');
    local.deliver('outpost/site-a/cmd/restart_container', '{}');
    local.deliver('outpost/site-a/cmd/restart_container/result', '{}');
    local.deliver('outpost/site-a/watchdog', '{"healthy":true}');
    await settle();
    const sent = () => upstream.sent.map((p) => [p.topic, p.payload, p.opts.retain]);
    expect(sent()).toEqual([
      ['sites/site-a/outpost/site-a/hosts/local/containers/mosquitto', '{"state":"running"}', true],
      ['sites/site-a/outpost/site-a/watchdog', '{"healthy":true}', true],
    ]);
    upstream.drop();
    local.deliver('outpost/site-a/watchdog', '{"healthy":false}');
    await settle();
    expect(upstream.sent.length).toBe(2);
    upstream.reconnect();
    await settle();
    expect(sent().slice(2)).toEqual([
      ['sites/site-a/outpost/site-a/watchdog', '{"healthy":false}', true],
      ['sites/site-a/outpost/site-a/hosts/local/containers/mosquitto', '{"state":"running"}', true],
    ]);
  });
});
