import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ClientQueue, type DeliveryPacket } from '../../../src/mqtt/client-queue.js';

/** The parts of an aedes client the queue takes over, recording what reaches the socket. */
function client() {
  const conn = new EventEmitter();
  const written: string[] = [];
  const c = {
    closed: false,
    conn,
    deliver0: (p: DeliveryPacket, done: () => void) => {
      written.push(p.topic);
      setImmediate(done);
    },
    deliverQoS: (p: DeliveryPacket, done: () => void) => {
      written.push(p.topic);
      setImmediate(done);
    },
    close: () => undefined,
  };
  return { c, conn, written };
}

const hooks = {
  limit: () => 1024 * 1024,
  dropping: () => undefined,
  caughtUp: () => undefined,
  overflowed: () => undefined,
};

const retained = (topic: string): DeliveryPacket => ({
  topic,
  payload: Buffer.from('x'),
  qos: 0,
  brokerId: null,
});

describe('ClientQueue: a new subscription’s retained messages', () => {
  it('go straight to the client while it is connected', async () => {
    const { c, written } = client();
    new ClientQueue(c, hooks);
    await new Promise<void>((resolve) => c.deliver0(retained('a'), resolve));
    expect(written).toEqual(['a']);
  });

  it('stop once the client has gone: the stream is not asked for the next one', async () => {
    const { c, conn, written } = client();
    new ClientQueue(c, hooks);
    conn.emit('close');
    c.closed = true;
    let asked = false;
    c.deliver0(retained('b'), () => (asked = true));
    await new Promise((r) => setImmediate(r)); // where the client would have called back
    expect(written).toEqual([]);
    expect(asked).toBe(false);
  });
});

describe('ClientQueue: a window of QoS 0 messages, not one per turn', () => {
  it('takes a retained stream’s messages back to back up to its window, in order', async () => {
    const { c, written } = client();
    new ClientQueue(c, hooks);
    const topics = Array.from({ length: 300 }, (_, i) => `r/${i}`);
    let next = 0;
    let askedInFirstTurn = 0;
    let firstTurn = true;
    const all = new Promise<void>((resolve) => {
      // As aedes' retained stream: the next message once the last one's callback ran.
      const send = (): void => {
        if (next === topics.length) return resolve();
        if (firstTurn) askedInFirstTurn++;
        c.deliver0(retained(topics[next++]!), send);
      };
      send();
    });
    firstTurn = false;
    // More than one a turn, and bounded: the rest waits for writes to call back.
    expect(askedInFirstTurn).toBeGreaterThan(1);
    expect(askedInFirstTurn).toBeLessThan(topics.length);
    await all;
    expect(written).toEqual(topics);
  });
});
