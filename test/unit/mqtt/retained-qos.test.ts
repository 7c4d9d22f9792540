import { describe, expect, it } from 'vitest';
import { retainedQos } from '../../../src/mqtt/retained-qos.js';

describe('retainedQos', () => {
  it('sends a stored QoS 1 message at QoS 0 to a client granted QoS 0 on its filter', () => {
    expect(retainedQos(1, 'homeassistant/sensor/x/config', { 'homeassistant/#': { qos: 0 } })).toBe(
      0,
    );
  });

  it('takes the highest QoS of the filters that match, never above the stored one', () => {
    const subs = { 'homeassistant/#': { qos: 0 }, 'homeassistant/+/x/config': { qos: 1 } };
    expect(retainedQos(1, 'homeassistant/sensor/x/config', subs)).toBe(1);
    expect(retainedQos(1, 'homeassistant/sensor/y/config', subs)).toBe(0);
    expect(retainedQos(0, 'homeassistant/sensor/x/config', subs)).toBe(0);
    expect(retainedQos(1, 'homeassistant/sensor/x/config', { '#': { qos: 2 } })).toBe(1);
  });

  it('ignores filters that do not match the topic', () => {
    const subs = { 'outpost/#': { qos: 1 }, 'homeassistant/binary_sensor/#': { qos: 0 } };
    expect(retainedQos(1, 'homeassistant/binary_sensor/x/config', subs)).toBe(0);
  });

  it('keeps the stored QoS when no filter matches', () => {
    expect(retainedQos(1, 'a/b', { 'c/#': { qos: 0 } })).toBe(1);
  });
});
