import { describe, expect, it } from 'vitest';
import type { OutMessage } from '../../../bridges/home-assistant/notify/messages.js';
import { doneUpTo } from '../../../bridges/home-assistant/notify/notifier.js';

function msg(key: string, seqs: number[]): OutMessage {
  return { service: 'notify.ops', title: key, message: key, key, seqs };
}

describe('how far the notifier’s cursor may move after a message', () => {
  it('passes each message’s event once it is sent, one at a time', () => {
    const ms = [msg('a', [1]), msg('b', [2]), msg('c', [3])];
    expect(doneUpTo(ms, (m) => m.key === 'a')).toBe(1);
    expect(doneUpTo(ms, (m) => m.key !== 'c')).toBe(2);
    expect(doneUpTo(ms, () => true)).toBeUndefined();
  });

  it('waits for every route’s message of an event', () => {
    const ms = [msg('a1', [1]), msg('b1', [1]), msg('a2', [2])];
    expect(doneUpTo(ms, (m) => m.key === 'a1')).toBe(0);
    expect(doneUpTo(ms, (m) => m.key !== 'a2')).toBe(1);
  });

  it('never stops inside a grouped message, sent or not', () => {
    // Downs 1 and 3 are one message, ups 2 and 4 another.
    const ms = [msg('down', [1, 3]), msg('up', [2, 4])];
    expect(doneUpTo(ms, (m) => m.key === 'down')).toBe(0);
    const split = [msg('down', [1, 3]), msg('mid', [2]), msg('late', [5])];
    expect(doneUpTo(split, (m) => m.key !== 'late')).toBe(4);
    expect(doneUpTo(split, (m) => m.key === 'down')).toBe(0);
  });
});
