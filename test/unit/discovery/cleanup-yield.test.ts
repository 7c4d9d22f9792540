import { describe, expect, it } from 'vitest';
import type { DiscoveryConfig } from '../../../discovery/entity.js';
import { DiscoveryPublisher } from '../../../discovery/publisher.js';
import { MemoryDiscoveryRegistry } from '../../../discovery/registry.js';
import { ManualClock } from '../../../src/core/clock.js';
import { ctx, fullModel, RecordingMqtt } from './fixtures.js';
import { modelDevices } from '../../../discovery/model.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the stale-config cleanup', () => {
  // It builds every device of the site; at 20,000 containers that held the event loop
  // (and the embedded broker on it) for 4 s in one go.
  it('lets the event loop turn between devices', async () => {
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const seen: number[] = [];
    const devices = [...modelDevices(ctx, fullModel)];
    const publisher = new DiscoveryPublisher({
      mqtt: new RecordingMqtt(),
      registry: new MemoryDiscoveryRegistry(),
      desired: () => ({
        devices: devices.map((d) => ({
          id: d.id,
          build: (): DiscoveryConfig[] => {
            seen.push(turns);
            return d.build();
          },
        })),
      }),
      clock: new ManualClock(0),
      log: quiet,
      prefix: 'homeassistant',
      node: 'chelsty-infra',
      sleep: () => Promise.resolve(),
    });
    try {
      await publisher.cleanupFromBroker([]);
    } finally {
      running = false;
    }
    expect(devices.length).toBeGreaterThan(2);
    expect(seen).toHaveLength(devices.length);
    expect(new Set(seen).size).toBe(devices.length);
  });
});
