import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { StatePublisher } from '../../../src/mqtt/state-publisher.js';
import type { MqttPublisher, PublishOptions } from '../../../src/mqtt/types.js';

/** Records what would go on the wire; a test double for the MQTT side, not for our logic. */
class Wire implements MqttPublisher {
  sent: { topic: string; payload: string; opts: PublishOptions | undefined }[] = [];
  readonly connected = true;
  publish(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<void> {
    this.sent.push({ topic, payload: payload.toString(), opts });
    return Promise.resolve();
  }
  subscribe(): () => void {
    return () => undefined;
  }
  onConnect(): () => void {
    return () => undefined;
  }
}

describe('StatePublisher', () => {
  it('publishes retained QoS 1 only when the content changes', async () => {
    const wire = new Wire();
    const s = new StatePublisher({ mqtt: wire, log: silentLogger(), clock: new ManualClock() });
    await s.set('t/a', { state: 'running' });
    await s.set('t/a', { state: 'running' });
    await s.set('t/b', 'online');
    await s.set('t/a', { state: 'exited' });
    expect(wire.sent).toEqual([
      { topic: 't/a', payload: '{"state":"running"}', opts: { qos: 1, retain: true } },
      { topic: 't/b', payload: 'online', opts: { qos: 1, retain: true } },
      { topic: 't/a', payload: '{"state":"exited"}', opts: { qos: 1, retain: true } },
    ]);
    expect([...s.current()]).toEqual([
      { topic: 't/a', payload: '{"state":"exited"}' },
      { topic: 't/b', payload: 'online' },
    ]);
  });

  it('clears a topic with an empty retained payload and forgets it', async () => {
    const wire = new Wire();
    const s = new StatePublisher({ mqtt: wire, log: silentLogger(), clock: new ManualClock() });
    await s.set('t/a', 'x');
    await s.clear('t/a');
    expect(wire.sent.at(-1)).toEqual({ topic: 't/a', payload: '', opts: { qos: 1, retain: true } });
    expect([...s.current()]).toEqual([]);
    await s.set('t/a', 'x');
    expect(wire.sent).toHaveLength(3);
  });

  it('sends nothing on a quiet site but the configured heartbeat', async () => {
    const wire = new Wire();
    const clock = new ManualClock();
    const s = new StatePublisher({
      mqtt: wire,
      log: silentLogger(),
      clock,
      heartbeatMs: 3_600_000,
    });
    await s.start();
    await s.set('t/a', 'x');
    await s.set('t/b', 'y');
    clock.advance(3_599_999);
    expect(wire.sent).toHaveLength(2);
    clock.advance(1);
    expect(wire.sent).toHaveLength(4);
    clock.advance(3_600_000);
    expect(wire.sent).toHaveLength(6);
    await s.stop();
    clock.advance(3_600_000);
    expect(wire.sent).toHaveLength(6);
  });

  it('sends the states of a source without keeping them, and republishes them from it', async () => {
    const wire = new Wire();
    const clock = new ManualClock();
    const s = new StatePublisher({ mqtt: wire, log: silentLogger(), clock, heartbeatMs: 1000 });
    const owned = new Map([['c/1', '{"state":"running"}']]);
    s.addSource(() => [...owned].map(([topic, payload]) => ({ topic, payload })));
    await s.start();
    await s.set('t/a', 'x');
    // The source dedupes itself: the same value twice goes out twice.
    await s.publish('c/1', { state: 'running' });
    await s.publish('c/1', { state: 'running' });
    expect(wire.sent.map((m) => m.topic)).toEqual(['t/a', 'c/1', 'c/1']);
    owned.set('c/1', '{"state":"exited"}');
    expect([...s.current()]).toEqual([
      { topic: 't/a', payload: 'x' },
      { topic: 'c/1', payload: '{"state":"exited"}' },
    ]);
    wire.sent = [];
    clock.advance(1000);
    expect(wire.sent.map((m) => [m.topic, m.payload])).toEqual([
      ['t/a', 'x'],
      ['c/1', '{"state":"exited"}'],
    ]);
    await s.stop();
  });
});
