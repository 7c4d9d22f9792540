import type { Platform } from '../../../discovery/ha-vocabulary.js';

/**
 * Key lists for the rules: the full keys each platform takes in discovery
 * (HA_DOCS.sensorMqtt & co.), the abbreviations HA would also accept (outpost writes full
 * keys only), and keys that are deprecated or not MQTT options at all.
 */

const COMMON = [
  'name',
  'unique_id',
  'default_entity_id',
  'device',
  'origin',
  'availability',
  'availability_mode',
  'entity_category',
  'entity_picture',
  'enabled_by_default',
  'encoding',
  'icon',
  'json_attributes_topic',
  'json_attributes_template',
  'qos',
  'platform',
];

export const PLATFORM_KEYS: Readonly<Record<Platform, ReadonlySet<string>>> = {
  sensor: new Set([
    ...COMMON,
    'state_topic',
    'value_template',
    'device_class',
    'unit_of_measurement',
    'state_class',
    'expire_after',
    'force_update',
    'last_reset_value_template',
    'options',
    'suggested_display_precision',
  ]),
  binary_sensor: new Set([
    ...COMMON,
    'state_topic',
    'value_template',
    'device_class',
    'expire_after',
    'force_update',
    'off_delay',
    'payload_on',
    'payload_off',
  ]),
  button: new Set([
    ...COMMON,
    'command_topic',
    'command_template',
    'device_class',
    'payload_press',
    'retain',
  ]),
  switch: new Set([
    ...COMMON,
    'command_topic',
    'command_template',
    'state_topic',
    'value_template',
    'device_class',
    'optimistic',
    'payload_on',
    'payload_off',
    'state_on',
    'state_off',
    'retain',
  ]),
  event: new Set([...COMMON, 'state_topic', 'value_template', 'device_class', 'event_types']),
  select: new Set([
    ...COMMON,
    'command_topic',
    'command_template',
    'state_topic',
    'value_template',
    'options',
    'optimistic',
    'retain',
  ]),
};

export const REQUIRED_KEYS: Readonly<Record<Platform, readonly string[]>> = {
  sensor: ['state_topic'],
  binary_sensor: ['state_topic'],
  button: ['command_topic'],
  switch: ['command_topic'],
  event: ['state_topic', 'event_types'],
  select: ['command_topic', 'options'],
};

export const DEVICE_KEYS: ReadonlySet<string> = new Set([
  'identifiers',
  'connections',
  'name',
  'model',
  'model_id',
  'manufacturer',
  'sw_version',
  'hw_version',
  'serial_number',
  'suggested_area',
  'configuration_url',
  'via_device',
]);

export const ORIGIN_KEYS: ReadonlySet<string> = new Set(['name', 'sw_version', 'support_url']);

export const DEVICE_MESSAGE_KEYS: ReadonlySet<string> = new Set([
  'device',
  'origin',
  'components',
  'availability',
  'availability_mode',
  'state_topic',
  'command_topic',
  'qos',
  'encoding',
]);

/** Deprecated or non-MQTT keys, with what to do instead. */
export const DEPRECATED_KEYS: Readonly<Record<string, string>> = {
  object_id: 'deprecated since HA 2025.10: use default_entity_id "<platform>.<object_id>"',
  availability_topic: 'use the availability list (with availability_mode)',
  json_attributes: 'removed: use json_attributes_topic',
  has_entity_name: 'not an MQTT option: HA always sets it for MQTT entities',
  via_hub: 'deprecated: use device.via_device',
};

/** Abbreviation → full key (HA_DOCS.discovery, "Supported abbreviations"). */
export const ABBREVIATIONS: Readonly<Record<string, string>> = {
  avty: 'availability',
  avty_mode: 'availability_mode',
  avty_t: 'availability_topic',
  avty_tpl: 'availability_template',
  cmd_t: 'command_topic',
  cmd_tpl: 'command_template',
  cmp: 'components',
  cmps: 'components',
  def_ent_id: 'default_entity_id',
  dev: 'device',
  dev_cla: 'device_class',
  e: 'encoding',
  en: 'enabled_by_default',
  ent_cat: 'entity_category',
  ent_pic: 'entity_picture',
  evt_typ: 'event_types',
  exp_aft: 'expire_after',
  frc_upd: 'force_update',
  ic: 'icon',
  json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template',
  lrst_val_tpl: 'last_reset_value_template',
  o: 'origin',
  obj_id: 'object_id',
  off_dly: 'off_delay',
  opt: 'optimistic',
  ops: 'options',
  p: 'platform',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off',
  pl_on: 'payload_on',
  pl_prs: 'payload_press',
  ret: 'retain',
  stat_cla: 'state_class',
  stat_off: 'state_off',
  stat_on: 'state_on',
  stat_t: 'state_topic',
  stat_tpl: 'state_template',
  sug_dsp_prc: 'suggested_display_precision',
  t: 'topic',
  uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement',
  val_tpl: 'value_template',
  // device and origin mappings
  cns: 'connections',
  cu: 'configuration_url',
  hw: 'hw_version',
  ids: 'identifiers',
  mdl: 'model',
  mdl_id: 'model_id',
  mf: 'manufacturer',
  sa: 'suggested_area',
  sn: 'serial_number',
  sw: 'sw_version',
  url: 'support_url',
};
