import { describe, expect, it } from 'vitest';
import { groupByDevice } from '../../../discovery/device-based.js';
import { desiredConfigs } from '../../../discovery/model.js';
import type { DiscoveryConfig } from '../../../discovery/entity.js';
import { validateDiscovery } from '../../helpers/ha-rules/rules.js';
import { ctx, fullModel } from './fixtures.js';

const all = desiredConfigs(ctx, fullModel);

function first(platform: string): DiscoveryConfig {
  return all.find((c) => c.platform === platform)!;
}

/** One config with its payload changed. */
function mutate(config: DiscoveryConfig, change: (p: Record<string, unknown>) => void) {
  const payload = structuredClone(config.payload);
  change(payload);
  return { topic: config.topic, payload, retain: true, qos: 1 };
}

function violations(config: DiscoveryConfig, change: (p: Record<string, unknown>) => void) {
  return validateDiscovery([mutate(config, change)]);
}

describe('ha-rules over everything the agent produces', () => {
  it('finds no violation in any family', () => {
    expect(validateDiscovery(all)).toEqual([]);
  });

  it('finds none as published JSON either', () => {
    const asText = all.map((c) => ({
      topic: c.topic,
      payload: JSON.stringify(c.payload),
      retain: c.retain,
      qos: c.qos,
    }));
    expect(validateDiscovery(asText)).toEqual([]);
  });

  it('finds none in the device-based grouping', () => {
    const messages = groupByDevice(all);
    expect(messages).toHaveLength(3);
    expect(validateDiscovery(messages)).toEqual([]);
  });

  it('finds none without the optional parts of the model', () => {
    const minimal = desiredConfigs(ctx, {
      agent: fullModel.agent,
      hosts: [{ id: 'local', remote: false }],
      families: [],
    });
    expect(validateDiscovery(minimal)).toEqual([]);
  });
});

describe('ha-rules catches', () => {
  const sensor = all.find((c) => c.uniqueId.endsWith('_used_pct'))!;
  const topic = sensor.topic;

  it('abbreviated and deprecated keys', () => {
    expect(violations(sensor, (p) => (p.stat_t = 'a/b'))).toContain(
      `${topic}: stat_t: abbreviated key: use the full key "state_topic"`,
    );
    expect(violations(sensor, (p) => (p.object_id = 'x'))[0]).toMatch(
      /object_id: deprecated since HA 2025.10/,
    );
    expect(violations(sensor, (p) => (p.has_entity_name = true))[0]).toMatch(
      /has_entity_name: not an MQTT option/,
    );
    expect(violations(sensor, (p) => (p.unit_of_measure = '%'))[0]).toMatch(
      /unit_of_measure: unknown key/,
    );
  });

  it('missing required keys and identity', () => {
    expect(violations(sensor, (p) => delete p.state_topic)).toContain(
      `${topic}: state_topic: required for sensor`,
    );
    expect(violations(first('button'), (p) => delete p.command_topic)[0]).toMatch(
      /command_topic: required for button/,
    );
    expect(violations(first('event'), (p) => (p.event_types = []))[0]).toMatch(
      /event_types: expected a non-empty list/,
    );
    expect(violations(sensor, (p) => delete p.unique_id)[0]).toMatch(
      /unique_id: expected a unique_id/,
    );
    expect(violations(sensor, (p) => (p.default_entity_id = 'switch.x'))[0]).toMatch(
      /default_entity_id/,
    );
    expect(violations(sensor, (p) => delete p.availability)[0]).toMatch(/availability: required/);
    expect(violations(sensor, (p) => delete p.origin)[0]).toMatch(/origin: expected an origin/);
    expect(violations(sensor, (p) => delete (p.device as Record<string, unknown>).name)[0]).toMatch(
      /device.name: required/,
    );
  });

  it('sensor device class / unit / state class mismatches', () => {
    const ts = all.find((c) => c.payload.device_class === 'timestamp')!;
    expect(violations(ts, (p) => (p.unit_of_measurement = 's'))[0]).toMatch(
      /unit_of_measurement: not allowed with device_class timestamp/,
    );
    expect(violations(ts, (p) => (p.state_class = 'measurement'))[0]).toMatch(
      /state_class: not allowed with device_class timestamp/,
    );
    expect(violations(sensor, (p) => (p.unit_of_measurement = 'percent'))[0]).toMatch(
      /a percentage has unit "%"/,
    );
    expect(violations(sensor, (p) => (p.state_class = 'average'))[0]).toMatch(
      /state_class: expected measurement/,
    );
    const free = all.find((c) => c.payload.device_class === 'data_size')!;
    expect(violations(free, (p) => (p.unit_of_measurement = 'bytes'))[0]).toMatch(
      /"bytes" is not a unit of data_size/,
    );
    const level = all.find((c) => c.payload.device_class === 'enum')!;
    expect(violations(level, (p) => delete p.options)[0]).toMatch(
      /options: required with device_class enum/,
    );
    expect(violations(sensor, (p) => (p.device_class = 'cpu'))[0]).toMatch(
      /not a sensor device class/,
    );
  });

  it('enum sensors whose template could hand HA a state outside their options', () => {
    const state = all.find((c) => c.uniqueId.endsWith('_container_radarr_state'))!;
    const at = (message: string) => `${state.topic}: value_template: ${message}`;
    expect(violations(state, (p) => (p.value_template = '{{ value_json.state }}'))).toContain(
      at('an enum sensor must map every state onto its options (enumTemplate)'),
    );
    const fewer = violations(state, (p) => {
      p.options = (p.options as string[]).filter((o) => o !== 'dead');
    });
    expect(fewer).toContain(
      at(
        'lets ["created","running","paused","restarting","exited","dead"] through, options are ["created","running","paused","restarting","exited"]',
      ),
    );
    expect(fewer).toContain(at('falls back to "dead", not an option'));
    const level = all.find((c) => c.uniqueId.endsWith('_level'))!;
    const full = violations(level, (p) => {
      p.value_template = (p.value_template as string).replace('else None', 'else "full"');
    });
    expect(full).toContain(`${level.topic}: value_template: falls back to "full", not an option`);
  });

  it('wrong device classes and categories on other platforms', () => {
    expect(violations(first('binary_sensor'), (p) => (p.device_class = 'temperature'))[0]).toMatch(
      /device_class: not a binary_sensor device class/,
    );
    expect(violations(first('button'), (p) => (p.device_class = 'run'))[0]).toMatch(
      /not a button device class/,
    );
    expect(violations(sensor, (p) => (p.entity_category = 'config'))[0]).toMatch(
      /"config" is not allowed for sensor/,
    );
    expect(violations(sensor, (p) => (p.entity_category = 'system'))[0]).toMatch(
      /expected config or diagnostic/,
    );
    expect(violations(first('select'), (p) => (p.options = []))[0]).toMatch(
      /options: expected a non-empty list of distinct strings/,
    );
    expect(violations(first('select'), (p) => delete p.command_topic)[0]).toMatch(
      /command_topic: required for select/,
    );
  });

  it('bad topics, templates and availability', () => {
    expect(violations(sensor, (p) => (p.state_topic = 'a/+/b'))[0]).toMatch(
      /state_topic: wildcards/,
    );
    expect(violations(sensor, (p) => (p.state_topic = 'a//b'))[0]).toMatch(/empty topic level/);
    expect(violations(sensor, (p) => delete p.value_template)[0]).toMatch(
      /value_template: required/,
    );
    const two = all.find(
      (c) => Array.isArray(c.payload.availability) && c.payload.availability.length === 2,
    )!;
    expect(violations(two, (p) => delete p.availability_mode)[0]).toMatch(
      /availability_mode: expected "all"/,
    );
    expect(
      validateDiscovery([{ topic: 'homeassistant/sensor/a b/config', payload: {} }])[0],
    ).toMatch(/topic: expected/);
    expect(validateDiscovery([{ ...mutate(sensor, () => undefined), retain: false }])[0]).toMatch(
      /retain/,
    );
  });

  it('duplicate unique ids, inconsistent devices and dangling via_device', () => {
    const copy = mutate(sensor, () => undefined);
    const other = { ...copy, topic: copy.topic.replace('used_pct', 'copy') };
    expect(validateDiscovery([copy, other])[0]).toMatch(/unique_id: .* is also used by/);
    const renamed = mutate(
      all.find((c) => c.uniqueId.endsWith('_free') && c.topic.includes('/local_'))!,
      (p) => {
        (p.device as Record<string, unknown>).name = 'Renamed';
      },
    );
    expect(
      validateDiscovery([...all.filter((c) => c.topic !== renamed.topic), renamed]).join('\n'),
    ).toMatch(/device: outpost_chelsty-infra_local differs/);
    expect(validateDiscovery([copy])).toContain(
      `${topic}: device.via_device: outpost_chelsty-infra is not a device in this set`,
    );
  });

  it('entity names that repeat the device name', () => {
    expect(violations(sensor, (p) => (p.name = 'Infra box used'))[0]).toMatch(
      /name: must not repeat the device name/,
    );
  });

  it('device messages with components that lack platform or carry device', () => {
    const [msg] = groupByDevice(all.filter((c) => c.deviceTopic.endsWith('host_nas/config')));
    const payload = structuredClone(msg!.payload);
    const components = payload.components as Record<string, Record<string, unknown>>;
    const [k1, k2] = Object.keys(components);
    delete components[k1!]!.platform;
    components[k2!]!.device = { identifiers: ['x'], name: 'x' };
    const out = validateDiscovery([{ topic: msg!.topic, payload }]);
    expect(out.some((v) => v.includes(`components.${k1}.platform`))).toBe(true);
    expect(out.some((v) => v.includes(`components.${k2}.device: root-only`))).toBe(true);
  });
});
