import { describe, expect, it } from 'vitest';
import { OfflineQueue, type QueuedPublish } from '../../../src/mqtt/offline-queue.js';

function item(topic: string, retain = false) {
  const state = { resolved: false, rejected: undefined as Error | undefined };
  const q: QueuedPublish = {
    topic,
    payload: topic,
    opts: { retain, qos: 1 },
    resolve: () => (state.resolved = true),
    reject: (e) => (state.rejected = e),
  };
  return { q, state };
}

describe('OfflineQueue', () => {
  it('drops the oldest beyond its bound and counts the drops', () => {
    const queue = new OfflineQueue(2);
    const a = item('a');
    queue.push(a.q, () => new Error('dropped a'));
    queue.push(item('b').q, () => new Error('x'));
    expect(queue.push(item('c').q, (d) => new Error(`dropped ${d.topic}`))).toBe(1);
    expect(a.state.rejected?.message).toBe('dropped a');
    expect(queue.drain().map((i) => i.topic)).toEqual(['b', 'c']);
    expect(queue.takeDropped()).toBe(1);
    expect(queue.takeDropped()).toBe(0);
  });

  it('keeps only the newest retained message per topic', () => {
    const queue = new OfflineQueue(10);
    const first = item('state', true);
    queue.push(first.q, () => new Error('x'));
    queue.push(item('event').q, () => new Error('x'));
    queue.push(item('state', true).q, () => new Error('x'));
    expect(first.state.resolved).toBe(true);
    expect(queue.drain().map((i) => i.topic)).toEqual(['event', 'state']);
  });
});
