import { describe, expect, it } from 'vitest';
import { uplinkEntities } from '../../../bridges/uplink/entities.js';
import { uplinkLinkOptions, uplinkPrefix } from '../../../bridges/uplink/from-config.js';
import {
  defaultTopicPrefix,
  prefixProblem,
  TopicMap,
  uplinkStateTopic,
} from '../../../bridges/uplink/topic-map.js';
import { agentDevice } from '../../../discovery/device.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { parseConfig } from '../../../src/config/load.js';
import { log } from './fakes.js';

const ROOT = { base: 'outpost', node: 'chelsty' };

function config(uplinkYaml: string) {
  return parseConfig(`node: { id: chelsty }\nuplink: ${uplinkYaml}\n`, { env: {} }).config;
}

describe('uplink topic mapping', () => {
  it('puts the node topics under the prefix', () => {
    const map = new TopicMap(ROOT, 'sites/chelsty');
    expect(map.events).toBe('sites/chelsty/outpost/chelsty/events');
    expect(map.availability).toBe('sites/chelsty/outpost/chelsty/availability');
    expect(map.map('outpost/chelsty/hosts/nas/disks/volume1')).toBe(
      'sites/chelsty/outpost/chelsty/hosts/nas/disks/volume1',
    );
    expect(new TopicMap(ROOT, '').events).toBe('outpost/chelsty/events');
    expect(defaultTopicPrefix('chelsty')).toBe('sites/chelsty');
    expect(uplinkStateTopic(ROOT)).toBe('outpost/chelsty/uplink');
  });

  it('maps only its own topics', () => {
    const map = new TopicMap(ROOT, 'sites/chelsty');
    expect(() => map.map('outpost/other/events')).toThrow(/not under outpost\/chelsty\//);
    expect(() => map.map('zigbee2mqtt/bridge/state')).toThrow();
  });

  it('forwards states, never events, commands or the availability', () => {
    const map = new TopicMap(ROOT, 'x');
    expect(map.stateFilter).toBe('outpost/chelsty/#');
    expect(map.forwardsState('outpost/chelsty/watchdog')).toBe(true);
    expect(map.forwardsState('outpost/chelsty/uplink')).toBe(true);
    expect(map.forwardsState('outpost/chelsty/actions/a1')).toBe(true);
    expect(map.forwardsState('outpost/chelsty/events')).toBe(false);
    expect(map.forwardsState('outpost/chelsty/availability')).toBe(false);
    expect(map.forwardsState('outpost/chelsty/cmd/approve')).toBe(false);
    expect(map.forwardsState('outpost/chelsty/cmd/approve/result')).toBe(false);
    expect(map.forwardsState('outpost/other/watchdog')).toBe(false);
  });

  it('refuses prefixes that are not a plain topic path', () => {
    for (const bad of ['/sites', 'sites/', 'sites//a', 'sites/+', 'a/#', '$SYS/x', 'a b']) {
      expect(prefixProblem(bad), bad).toBeDefined();
      expect(() => new TopicMap(ROOT, bad)).toThrow(/uplink topic prefix/);
    }
    expect(prefixProblem('sites/chelsty')).toBeUndefined();
  });
});

describe('uplink config', () => {
  it('is off when absent, with defaults when present', () => {
    expect(parseConfig('node: { id: chelsty }\n', { env: {} }).config.uplink).toBeUndefined();
    const c = config('{ url: "mqtts://central.example:8883" }');
    expect(c.uplink).toEqual({
      url: 'mqtts://central.example:8883',
      protocol: 'auto',
      max_rate: 200,
      max_bytes_rate: 65536,
      window: 100,
      forward_states: false,
    });
    expect(uplinkPrefix(c, c.uplink!)).toBe('sites/chelsty');
  });

  it('reads rates per second, minute or hour, numbers, 0 and unlimited', () => {
    const rates = (r: string, b: string) => {
      const u = config(`{ url: "mqtt://h:1883", max_rate: ${r}, max_bytes_rate: ${b} }`).uplink!;
      return [u.max_rate, u.max_bytes_rate];
    };
    expect(rates('"12000/m"', '"1MiB/s"')).toEqual([200, 1024 ** 2]);
    expect(rates('"3600/h"', '"60KB/m"')).toEqual([1, 1000]);
    expect(rates('50', '2048')).toEqual([50, 2048]);
    expect(rates('"25/s"', '"512"')).toEqual([25, 512]);
    expect(rates('0', 'unlimited')).toEqual([0, 0]);
    expect(rates('unlimited', '0')).toEqual([0, 0]);
  });

  it('names the field, the value and what was expected', () => {
    expect(() => config('{ url: "mqtt://h:1883", max_rate: "fast" }')).toThrow(
      /uplink\.max_rate.*messages per second such as "200\/s"/s,
    );
    expect(() => config('{ url: "mqtt://h:1883", max_bytes_rate: "-5/s" }')).toThrow(
      /uplink\.max_bytes_rate/,
    );
    expect(() => config('{ url: "mqtt://h:1883", topic_prefix: "sites/+" }')).toThrow(
      /uplink\.topic_prefix/,
    );
    expect(() => config('{ url: "mqtt://h:1883", topic_prefix: "sites/" }')).toThrow(
      /uplink\.topic_prefix/,
    );
    expect(() => config('{ max_rate: 5 }')).toThrow(/uplink\.url/);
    expect(() => config('{ url: "mqtt://h:1883", windw: 5 }')).toThrow(/windw/);
  });

  it('builds its own link: client id, credentials, availability under the prefix', () => {
    const c = config(
      '{ url: "mqtts://central:8883", username: site, password: pw, topic_prefix: "fleet/eu/chelsty", protocol: "5" }',
    );
    const o = uplinkLinkOptions(c, log)!;
    expect(o).toMatchObject({
      url: 'mqtts://central:8883',
      clientId: 'outpost-chelsty-uplink',
      username: 'site',
      password: 'pw',
      protocol: '5',
      rejectUnauthorized: true,
      availabilityTopic: 'fleet/eu/chelsty/outpost/chelsty/availability',
    });
    expect(o.queueLimit).toBeGreaterThanOrEqual(100);
  });
});

describe('uplink entities', () => {
  const ctx = {
    prefix: 'homeassistant',
    root: ROOT,
    origin: { name: 'outpost', sw_version: '0.1.0' },
  };
  const device = agentDevice(ROOT, { node: 'chelsty', name: 'Chelsty', swVersion: '0.1.0' });
  const configs = uplinkEntities(ctx, device);

  it('builds connectivity, backlog and oldest unsent age from the uplink state', () => {
    expect(configs.map((c) => [c.topic, c.retain, c.qos])).toEqual([
      ['homeassistant/binary_sensor/outpost_chelsty/uplink_connected/config', true, 1],
      ['homeassistant/sensor/outpost_chelsty/uplink_backlog/config', true, 1],
      ['homeassistant/sensor/outpost_chelsty/uplink_oldest_unsent_age/config', true, 1],
    ]);
    const [conn, backlog, age] = configs.map((c) => c.payload);
    expect(conn).toMatchObject({
      name: 'Uplink',
      unique_id: 'outpost_chelsty_uplink_connected',
      state_topic: 'outpost/chelsty/uplink',
      json_attributes_topic: 'outpost/chelsty/uplink',
      value_template: `{{ 'ON' if value_json["connected"] else 'OFF' }}`,
      device_class: 'connectivity',
      availability: device.availability,
      qos: 1,
    });
    expect(backlog).toMatchObject({
      state_topic: 'outpost/chelsty/uplink',
      state_class: 'measurement',
      entity_category: 'diagnostic',
    });
    expect(backlog!.value_template).toContain('value_json["backlog"]');
    expect(age).toMatchObject({
      device_class: 'duration',
      unit_of_measurement: 's',
      entity_category: 'diagnostic',
    });
    expect(age!.value_template).toContain('value_json["oldest_unsent_age_s"]');
    for (const c of configs) expect(c.stateTopics).toEqual(['outpost/chelsty/uplink']);
  });

  it('passes the Home Assistant rules', () => {
    expect(validateDiscovery(configs)).toEqual([]);
  });
});
