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
});
