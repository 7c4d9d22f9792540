import type { Platform } from '../../../discovery/ha-vocabulary.js';
import {
  ABBREVIATIONS,
  DEPRECATED_KEYS,
  DEVICE_KEYS,
  ORIGIN_KEYS,
  PLATFORM_KEYS,
  REQUIRED_KEYS,
} from './keys.js';
import {
  AVAILABILITY_MODES,
  BINARY_SENSOR_DEVICE_CLASSES,
  BUTTON_DEVICE_CLASSES,
  ENTITY_CATEGORIES,
  EVENT_DEVICE_CLASSES,
  SWITCH_DEVICE_CLASSES,
} from './vocabulary.js';
import { validateSensor } from './sensor.js';

/** Collects violations as `<where>: <key>: <what>`. */
export type Report = (key: string, message: string) => void;

type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** MQTT topic we may publish to or subscribe on: no wildcards, no empty levels, no spaces. */
export function topicProblem(t: unknown): string | undefined {
  if (typeof t !== 'string' || t.length === 0) return 'expected a non-empty topic';
  if (/[+#]/.test(t)) return `wildcards are not allowed in ${JSON.stringify(t)}`;
  if (/\s/.test(t) || t.includes('\u0000')) return `whitespace or NUL in ${JSON.stringify(t)}`;
  if (t.split('/').some((level) => level === ''))
    return `empty topic level in ${JSON.stringify(t)}`;
  if (Buffer.byteLength(t, 'utf8') > 65_535) return 'topic longer than 65535 bytes';
  return undefined;
}

/** Keys that are abbreviated, deprecated or unknown in one mapping. */
export function checkKeys(obj: Obj, allowed: ReadonlySet<string>, where: string, report: Report) {
  for (const key of Object.keys(obj)) {
    const k = where ? `${where}.${key}` : key;
    if (key in DEPRECATED_KEYS) report(k, DEPRECATED_KEYS[key]!);
    else if (!allowed.has(key) && key in ABBREVIATIONS) {
      report(k, `abbreviated key: use the full key "${ABBREVIATIONS[key]}"`);
    } else if (!allowed.has(key)) report(k, 'unknown key for this platform');
  }
}

const CLASSES: Partial<Record<Platform, ReadonlySet<string>>> = {
  binary_sensor: BINARY_SENSOR_DEVICE_CLASSES,
  button: BUTTON_DEVICE_CLASSES,
  switch: SWITCH_DEVICE_CLASSES,
  event: EVENT_DEVICE_CLASSES,
};

/** Every per-entity rule for one entity payload. */
export function validateEntity(platform: Platform, p: Obj, report: Report): void {
  checkKeys(p, PLATFORM_KEYS[platform], '', report);
  for (const key of REQUIRED_KEYS[platform]) {
    if (p[key] === undefined) report(key, `required for ${platform}`);
  }
  checkIdentity(platform, p, report);
  checkDevice(p.device, report);
  checkOrigin(p.origin, report);
  checkAvailability(p, report);
  checkTopicsAndTemplates(p, report);
  checkPresentation(platform, p, report);
  if (platform === 'sensor') validateSensor(p, report);
  else checkPlatform(platform, p, report);
}

function checkIdentity(platform: Platform, p: Obj, report: Report): void {
  if (typeof p.unique_id !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(p.unique_id)) {
    report('unique_id', 'expected a unique_id of [a-zA-Z0-9_-]');
  }
  if (p.default_entity_id !== undefined) {
    const m =
      typeof p.default_entity_id === 'string' && /^([a-z_]+)\.(.+)$/.exec(p.default_entity_id);
    if (!m || m[1] !== platform || !/^(?!_)(?!.*__)[a-z0-9_]+(?<!_)$/.test(m[2]!)) {
      report('default_entity_id', `expected "${platform}.<lower-case object id>"`);
    }
  }
  if (p.name !== null && typeof p.name !== 'string') report('name', 'expected a string or null');
  const deviceName = isObj(p.device) && typeof p.device.name === 'string' ? p.device.name : '';
  if (typeof p.name === 'string' && deviceName) {
    const n = p.name.toLowerCase();
    const d = deviceName.toLowerCase();
    // HA strips a device-name prefix from entity names and raises a repair for it.
    if (n === d || n.startsWith(`${d} `)) report('name', 'must not repeat the device name');
  }
}

function checkDevice(device: unknown, report: Report): void {
  if (!isObj(device)) return report('device', 'expected a device mapping');
  checkKeys(device, DEVICE_KEYS, 'device', report);
  const ids = device.identifiers;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string')) {
    report('device.identifiers', 'expected a non-empty list of strings');
  }
  // Entities share a device by identifiers + name since HA 2023.8.
  if (typeof device.name !== 'string' || device.name === '') report('device.name', 'required');
  for (const k of ['model', 'manufacturer', 'sw_version', 'via_device']) {
    if (device[k] !== undefined && typeof device[k] !== 'string')
      report(`device.${k}`, 'expected a string');
  }
  const url = device.configuration_url;
  if (
    url !== undefined &&
    (typeof url !== 'string' || !/^(https?|homeassistant):\/\/\S+$/.test(url))
  ) {
    report('device.configuration_url', 'expected an http(s):// or homeassistant:// URL');
  }
}

function checkOrigin(origin: unknown, report: Report): void {
  if (!isObj(origin)) return report('origin', 'expected an origin mapping');
  checkKeys(origin, ORIGIN_KEYS, 'origin', report);
  if (typeof origin.name !== 'string' || origin.name === '') report('origin.name', 'required');
  if (origin.sw_version !== undefined && typeof origin.sw_version !== 'string') {
    report('origin.sw_version', 'expected a string');
  }
  const url = origin.support_url;
  if (url !== undefined && (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url))) {
    report('origin.support_url', 'expected an http(s) URL');
  }
}

const AVAILABILITY_ENTRY_KEYS = new Set([
  'topic',
  'payload_available',
  'payload_not_available',
  'value_template',
]);

function checkAvailability(p: Obj, report: Report): void {
  const a = p.availability;
  // An entity whose state is an availability topic reports it as on/off instead.
  const selfReporting =
    typeof p.state_topic === 'string' && p.state_topic.endsWith('/availability');
  if (a === undefined) {
    if (!selfReporting) report('availability', 'required: the agent availability topic at least');
    return;
  }
  if (!Array.isArray(a) || a.length === 0)
    return report('availability', 'expected a non-empty list');
  a.forEach((entry, i) => {
    if (!isObj(entry)) return report(`availability[${i}]`, 'expected a mapping');
    checkKeys(entry, AVAILABILITY_ENTRY_KEYS, `availability[${i}]`, report);
    const problem = topicProblem(entry.topic);
    if (problem) report(`availability[${i}].topic`, problem);
  });
  const mode = p.availability_mode;
  if (mode !== undefined && (typeof mode !== 'string' || !AVAILABILITY_MODES.has(mode))) {
    report('availability_mode', 'expected all, any or latest');
  }
  if (a.length > 1 && mode !== 'all')
    report('availability_mode', 'expected "all" with several topics');
}

function checkTopicsAndTemplates(p: Obj, report: Report): void {
  for (const [key, value] of Object.entries(p)) {
    if (key.endsWith('_topic')) {
      const problem = topicProblem(value);
      if (problem) report(key, problem);
    }
    if (key.endsWith('_template') && (typeof value !== 'string' || !/\{\{|\{%/.test(value))) {
      report(key, 'expected a Jinja template');
    }
  }
  if (p.json_attributes_template !== undefined && p.json_attributes_topic === undefined) {
    report('json_attributes_template', 'needs json_attributes_topic');
  }
  // outpost's state topics carry JSON, so every reader picks its field with a template.
  const st = p.state_topic;
  if (typeof st === 'string' && !st.endsWith('/availability') && p.value_template === undefined) {
    report('value_template', 'required: state topics carry JSON');
  }
  if (p.qos !== undefined && p.qos !== 0 && p.qos !== 1 && p.qos !== 2)
    report('qos', 'expected 0, 1 or 2');
}

function checkPresentation(platform: Platform, p: Obj, report: Report): void {
  const cat = p.entity_category;
  if (cat !== undefined && (typeof cat !== 'string' || !ENTITY_CATEGORIES.has(cat))) {
    report('entity_category', 'expected config or diagnostic');
  }
  // HA refuses read-only entities in the config category (HA_DOCS.entityCategory).
  if (cat === 'config' && ['sensor', 'binary_sensor', 'event'].includes(platform)) {
    report('entity_category', `"config" is not allowed for ${platform}`);
  }
  if (p.icon !== undefined && (typeof p.icon !== 'string' || !/^mdi:[a-z0-9-]+$/.test(p.icon))) {
    report('icon', 'expected "mdi:<name>"');
  }
}

function checkPlatform(platform: Platform, p: Obj, report: Report): void {
  const dc = p.device_class;
  if (dc !== undefined && dc !== null && (typeof dc !== 'string' || !CLASSES[platform]?.has(dc))) {
    report('device_class', `not a ${platform} device class`);
  }
  for (const k of ['payload_on', 'payload_off', 'payload_press', 'state_on', 'state_off']) {
    if (p[k] !== undefined && typeof p[k] !== 'string') report(k, 'expected a string');
  }
  if (platform === 'switch' && p.state_topic !== undefined && p.payload_on !== undefined) {
    // state_on defaults to payload_on: a JSON command payload would never match the state.
    if (p.state_on === undefined || p.state_off === undefined) {
      report('state_on', 'set state_on/state_off when payload_on/payload_off are set');
    }
  }
  if (platform === 'event' && !distinctStrings(p.event_types)) {
    report('event_types', 'expected a non-empty list of distinct strings');
  }
  // HA_DOCS.selectMqtt: a state that is not one of `options` is refused with an error log.
  if (platform === 'select' && !distinctStrings(p.options)) {
    report('options', 'expected a non-empty list of distinct strings');
  }
}

function distinctStrings(list: unknown): boolean {
  return (
    Array.isArray(list) &&
    list.length > 0 &&
    list.every((t) => typeof t === 'string' && t !== '') &&
    new Set(list).size === list.length
  );
}
