import { afterEach, describe, expect, it } from 'vitest';
import { type RetainedMessage, RetainedStore } from '../../../src/mqtt/retained-store.js';

const opened: RetainedStore[] = [];

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function store(): RetainedStore {
  const s = RetainedStore.open(':memory:');
  opened.push(s);
  return s;
}

function fill(s: RetainedStore, n: number, value: string): string[] {
  const topics = Array.from({ length: n }, (_, i) => `s/${String(i).padStart(4, '0')}`);
  for (const t of topics) s.store({ topic: t, payload: value, qos: 1 });
  return topics;
}

describe('RetainedStore.match', () => {
  it('gives each matching message once, in topic order, with its qos', () => {
    const s = store();
    s.store({ topic: 'a/x', payload: '1', qos: 1 });
    s.store({ topic: 'a/y', payload: '2' });
    s.store({ topic: 'b/x', payload: '3', qos: 1 });
    const got = [...s.match(['a/#', '+/x'])].map((m) => [m.topic, m.qos, m.payload.toString()]);
    expect(got).toEqual([
      ['a/x', 1, '1'],
      ['a/y', 0, '2'],
      ['b/x', 1, '3'],
    ]);
  });

  // aedes takes the messages later than the store reads them (see LatestRetained).
  it('hands out the value stored when a message is taken, not when its page was read', () => {
    const s = store();
    const topics = fill(s, 600, 'old');
    const messages = s.match(['#']);
    const first = messages.next().value as RetainedMessage; // reads the first page
    s.store({ topic: topics[1]!, payload: 'new', qos: 0 });
    s.store({ topic: topics[2]!, payload: '' });
    const rest = [...messages];
    expect(first.payload.toString()).toBe('old');
    expect([rest[0]!.payload.toString(), rest[0]!.qos]).toEqual(['new', 0]);
    expect(rest[1]!.payload.length).toBe(0); // cleared meanwhile: sent empty, as live
    expect(rest.slice(2).every((m) => m.payload.toString() === 'old')).toBe(true);
    expect(rest).toHaveLength(599);
  });
});
