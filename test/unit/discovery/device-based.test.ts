import { describe, expect, it } from 'vitest';
import { groupByDevice, removalFor } from '../../../discovery/device-based.js';
import { agentDevice } from '../../../discovery/device.js';
import { watchdogEntities } from '../../../discovery/entities/watchdog.js';
import { agent, ctx } from './fixtures.js';

const device = agentDevice(ctx.root, agent);
const [problem, petting] = watchdogEntities(ctx, device);

describe('groupByDevice', () => {
  it('puts device and origin at the root and each entity under components with its platform', () => {
    const [message, ...rest] = groupByDevice([petting!, problem!]);
    expect(rest).toEqual([]);
    expect(message!.topic).toBe('homeassistant/device/outpost_chelsty-infra/agent/config');
    expect(message!.retain).toBe(true);
    expect(message!.qos).toBe(1);
    const { device: _d, origin: _o, ...problemRest } = problem!.payload;
    expect(message!.payload).toEqual({
      device: device.payload,
      origin: ctx.origin,
      components: {
        watchdog_petting: expect.objectContaining({
          platform: 'binary_sensor',
          unique_id: petting!.uniqueId,
        }),
        watchdog_problem: { platform: 'binary_sensor', ...problemRest },
      },
    });
    expect(Object.keys(message!.payload.components as object)).toEqual([
      'watchdog_petting',
      'watchdog_problem',
    ]);
  });

  it('marks removed components with their platform alone', () => {
    const removal = removalFor(petting!.topic, problem!.deviceTopic, 'homeassistant');
    expect(removal).toEqual({
      deviceTopic: problem!.deviceTopic,
      componentKey: 'watchdog_petting',
      platform: 'binary_sensor',
    });
    const [message] = groupByDevice([problem!], [removal!]);
    expect((message!.payload.components as Record<string, unknown>).watchdog_petting).toEqual({
      platform: 'binary_sensor',
    });
  });
});
