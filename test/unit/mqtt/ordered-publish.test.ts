import type { Aedes } from 'aedes';
import { describe, expect, it, vi } from 'vitest';
import { orderPublishes } from '../../../src/mqtt/ordered-publish.js';

type Done = (err?: Error | null) => void;

/** Stands in for aedes' publish: numbers each message, then finishes after `delay(topic)`. */
function fakeBroker(delay: (topic: string) => number | undefined) {
  let counter = 0;
  const delivered: Array<[string, number]> = [];
  const broker = {
    publish(packet: { topic: string }, _client: unknown, done?: Done) {
      const n = ++counter;
      const ms = delay(packet.topic);
      if (ms === undefined) return; // never calls back
      setTimeout(() => {
        delivered.push([packet.topic, n]);
        done?.(null);
      }, ms);
    },
  };
  return { broker: broker as unknown as Aedes, delivered };
}

const publish = (broker: Aedes, topic: string) =>
  new Promise<Error | null | undefined>((resolve) =>
    (broker as unknown as { publish: (p: object, d: Done) => void }).publish({ topic }, resolve),
  );

describe('orderPublishes', () => {
  it('hands messages over in the order they were numbered, whatever each step takes', async () => {
    // Retained messages take longer (a store write) than plain ones: unordered, the plain
    // ones would overtake them.
    const { broker, delivered } = fakeBroker((t) => (t.startsWith('state') ? 8 : 0));
    const dispose = orderPublishes(broker);
    const topics = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0 ? `event/${i}` : `state/${i}`,
    );
    await Promise.all(topics.map((t) => publish(broker, t)));
    dispose();
    expect(delivered.map(([t]) => t)).toEqual(topics);
    expect(delivered.map(([, n]) => n)).toEqual(topics.map((_, i) => i + 1));
  });

  it('moves on from a publish that never finishes, and says so', async () => {
    const { broker, delivered } = fakeBroker((t) => (t === 'stuck' ? undefined : 0));
    const stalled: Array<string | undefined> = [];
    const dispose = orderPublishes(broker, { stallMs: 40, onStall: (t) => stalled.push(t) });
    const results = await Promise.all(['a', 'stuck', 'b'].map((t) => publish(broker, t)));
    dispose();
    expect(results[0]).toBeNull();
    expect(results[1]).toBeInstanceOf(Error);
    expect(results[2]).toBeNull();
    expect(stalled).toEqual(['stuck']);
    expect(delivered.map(([t]) => t)).toEqual(['a', 'b']);
  });

  it('past maxQueued, a waiting retained state gives way to its newer value; events all wait', async () => {
    // The broker is slow (a store write per message): 200 state updates over 5 topics and
    // 20 events arrive while the first is still being handed over.
    const seen: Array<{ topic: string; payload: string }> = [];
    let gate: (() => void) | undefined;
    const broker = {
      publish(packet: { topic: string; payload: string }, _c: unknown, done?: Done) {
        seen.push({ topic: packet.topic, payload: packet.payload });
        if (seen.length === 1) gate = () => done?.(null);
        else setImmediate(() => done?.(null));
      },
    } as unknown as Aedes;
    const coalescedTopics = new Set<string>();
    const order = orderPublishes(broker, {
      maxQueued: 10,
      onCoalesce: (t) => coalescedTopics.add(t),
    });
    const send = (topic: string, payload: string, retain: boolean) =>
      new Promise<Error | null | undefined>((resolve) =>
        (broker as unknown as { publish: (p: object, d: Done) => void }).publish(
          { topic, payload, retain },
          resolve,
        ),
      );
    const answers: Array<Promise<unknown>> = [send('first', '0', true)];
    let most = 0;
    for (let i = 1; i <= 200; i++) {
      answers.push(send(`state/${i % 5}`, String(i), true));
      if (i % 10 === 0) answers.push(send('events', `e${i / 10}`, false));
      most = Math.max(most, order.state().queued);
    }
    // Bounded while the broker is stuck: at most the bound, plus the events that wait.
    expect(most).toBeLessThanOrEqual(10 + 20);
    gate!();
    expect(await Promise.all(answers)).toEqual(answers.map(() => null)); // every one answered
    order();
    const events = seen.filter((m) => m.topic === 'events').map((m) => m.payload);
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => `e${i + 1}`));
    // Each topic's last value is the newest one sent, and a topic never goes back in time.
    for (let t = 0; t < 5; t++) {
      const values = seen.filter((m) => m.topic === `state/${t}`).map((m) => Number(m.payload));
      expect(values.at(-1)).toBe(t === 0 ? 200 : 195 + t);
      expect([...values].sort((a, b) => a - b)).toEqual(values);
    }
    expect(order.state().coalesced).toBeGreaterThan(150);
    expect(seen.length).toBe(1 + 200 + 20 - order.state().coalesced);
    expect([...coalescedTopics].sort()).toEqual([
      'state/0',
      'state/1',
      'state/2',
      'state/3',
      'state/4',
    ]);
    expect(order.state().queued).toBe(0);
  });

  it('under maxQueued, every retained update is handed over', async () => {
    const { broker, delivered } = fakeBroker(() => 1);
    const order = orderPublishes(broker, { maxQueued: 100 });
    const sends = Array.from(
      { length: 50 },
      (_, i) =>
        new Promise((resolve) =>
          (broker as unknown as { publish: (p: object, d: Done) => void }).publish(
            { topic: 'state/x', payload: String(i), retain: true },
            resolve,
          ),
        ),
    );
    await Promise.all(sends);
    order();
    expect(delivered.length).toBe(50);
    expect(order.state().coalesced).toBe(0);
  });

  it('acknowledges a publish only once the store says it is durable, without holding up the next', async () => {
    const { broker, delivered } = fakeBroker(() => 0);
    const waiting: Array<() => void> = [];
    const dispose = orderPublishes(broker, { durable: (done) => waiting.push(done) });
    const acked: string[] = [];
    const all = ['a', 'b', 'c'].map((t) => publish(broker, t).then(() => acked.push(t)));
    // Each is handed on in turn though none was acknowledged.
    await vi.waitFor(() => expect(delivered.map(([t]) => t)).toEqual(['a', 'b', 'c']));
    expect(acked).toEqual([]); // none acknowledged before its commit
    for (const done of waiting.splice(0)) done();
    await Promise.all(all);
    dispose();
    expect(acked).toEqual(['a', 'b', 'c']);
  });
  it('answers a replaced retained message only once the message that replaced it is durable', async () => {
    const { broker, delivered } = fakeBroker((t) => (t === 'slow' ? 20 : 0));
    const waiting: Array<() => void> = [];
    const order = orderPublishes(broker, {
      maxQueued: 1,
      durable: (done) => waiting.push(done),
    });
    const answered: string[] = [];
    const send = (topic: string, payload: string) =>
      new Promise((resolve) =>
        (broker as unknown as { publish: (p: object, d: Done) => void }).publish(
          { topic, payload, retain: true },
          resolve,
        ),
      ).then(() => answered.push(payload));
    // 'slow' is being handed over; '1' waits; '2' replaces it past maxQueued.
    const all = [send('slow', 's'), send('state/x', '1'), send('state/x', '2')];
    expect(order.state().coalesced).toBe(1);
    await vi.waitFor(() => expect(delivered.map(([t]) => t)).toEqual(['slow', 'state/x']));
    expect(answered).toEqual([]); // nothing is durable yet, so not '1' either
    for (const done of waiting.splice(0)) done();
    await Promise.all(all);
    order();
    expect(answered.sort()).toEqual(['1', '2', 's']);
  });
});
