import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/core/event-bus.js';
import { memoryLogger } from '../../helpers/memory-logger.js';

interface Events {
  tick: number;
  word: string;
}

describe('EventBus', () => {
  it('delivers each event to its listeners in subscription order, and only those', () => {
    const bus = new EventBus<Events>(memoryLogger().log);
    const heard: string[] = [];
    bus.on('a', 'tick', (n) => heard.push(`a${n}`));
    bus.on('b', 'tick', (n) => heard.push(`b${n}`));
    bus.on('c', 'word', (w) => heard.push(`c${w}`));
    bus.emit('tick', 1);
    bus.emit('word', 'x');
    bus.emit('tick', 2);
    expect(heard).toEqual(['a1', 'b1', 'cx', 'a2', 'b2']);
  });

  it('logs a throwing listener with its owner and still tells the others', () => {
    const { log, lines } = memoryLogger();
    const bus = new EventBus<Events>(log);
    const heard: number[] = [];
    bus.on('broken', 'tick', () => {
      throw new Error('boom');
    });
    bus.on('fine', 'tick', (n) => heard.push(n));
    expect(() => bus.emit('tick', 7)).not.toThrow();
    expect(heard).toEqual([7]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        owner: 'broken',
        event: 'tick',
        err: 'boom',
        msg: 'event bus listener failed',
      }),
    ]);
  });

  it("removeAll drops one owner's listeners on every event, and no one else's", () => {
    const bus = new EventBus<Events>(memoryLogger().log);
    const heard: string[] = [];
    bus.on('gone', 'tick', () => heard.push('gone-tick'));
    bus.on('gone', 'word', () => heard.push('gone-word'));
    bus.on('kept', 'tick', () => heard.push('kept-tick'));
    bus.removeAll('gone');
    bus.emit('tick', 1);
    bus.emit('word', 'w');
    expect(heard).toEqual(['kept-tick']);
    expect(bus.listenerCount('word')).toBe(0);
    expect(bus.listenerCount('tick')).toBe(1);
  });

  it('a listener added while an event is delivered hears the next one, not this one', () => {
    const bus = new EventBus<Events>(memoryLogger().log);
    const heard: string[] = [];
    bus.on('a', 'tick', (n) => {
      heard.push(`a${n}`);
      if (n === 1) bus.on('late', 'tick', (m) => heard.push(`late${m}`));
    });
    bus.emit('tick', 1);
    bus.emit('tick', 2);
    expect(heard).toEqual(['a1', 'a2', 'late2']);
  });
});
