import { PLATFORMS, type Platform } from '../../../discovery/ha-vocabulary.js';
import { parseConfigTopic } from '../../../discovery/topics.js';
import { checkKeys, isObj, validateEntity, type Report } from './entity.js';
import { DEVICE_MESSAGE_KEYS } from './keys.js';

/**
 * A strict check of discovery messages against Home Assistant's rules, stricter than HA
 * itself where outpost has a convention (full keys, availability always, JSON state read
 * through value_template). Used by the unit tests over every payload and by e2e tests.
 */
export interface DiscoveryMessageLike {
  readonly topic: string;
  /** The payload object, or its JSON text as published. */
  readonly payload: unknown;
  readonly retain?: boolean;
  readonly qos?: number;
}

export interface HaRulesOptions {
  /** Discovery prefix; `homeassistant` by default. */
  readonly prefix?: string;
}

interface Seen {
  where: string;
  payload: Record<string, unknown>;
}

/** Every violation in the set, as `<config topic>: <key>: <what is wrong>`. */
export function validateDiscovery(
  messages: readonly DiscoveryMessageLike[],
  opts: HaRulesOptions = {},
): string[] {
  const prefix = opts.prefix ?? 'homeassistant';
  const out: string[] = [];
  const entities: Seen[] = [];
  const topics = new Set<string>();
  for (const m of messages) {
    const report: Report = (key, message) => out.push(`${m.topic}: ${key}: ${message}`);
    if (topics.has(m.topic)) report('topic', 'published twice in one set');
    topics.add(m.topic);
    entities.push(...validateMessage(m, prefix, report));
  }
  checkAcrossSet(entities, out);
  return out;
}

function validateMessage(m: DiscoveryMessageLike, prefix: string, report: Report): Seen[] {
  if (m.retain === false) report('retain', 'discovery configs must be retained');
  if (m.qos !== undefined && m.qos !== 1) report('qos', 'outpost publishes discovery with QoS 1');
  const parsed = parseConfigTopic(m.topic, prefix);
  if (!parsed) {
    report(
      'topic',
      `expected ${prefix}/<component>/[<node_id>/]<object_id>/config with ids of [a-zA-Z0-9_-]`,
    );
    return [];
  }
  const payload = parsePayload(m.payload);
  if (!payload) {
    report('payload', 'expected a JSON object');
    return [];
  }
  if (parsed.component === 'device') return validateDeviceMessage(m.topic, payload, report);
  if (!isPlatform(parsed.component)) {
    report('topic', `component ${parsed.component} is not one outpost publishes`);
    return [];
  }
  if (payload.platform !== undefined)
    report('platform', 'only allowed inside device-based components');
  validateEntity(parsed.component, payload, report);
  return [{ where: m.topic, payload }];
}

/** HA 2024.11+ device message: root device + origin, entities under `components`. */
function validateDeviceMessage(topic: string, p: Record<string, unknown>, report: Report): Seen[] {
  checkKeys(p, DEVICE_MESSAGE_KEYS, '', report);
  if (!isObj(p.device)) report('device', 'required in a device-based message');
  if (!isObj(p.origin)) report('origin', 'required in a device-based message');
  if (!isObj(p.components) || Object.keys(p.components).length === 0) {
    report('components', 'expected a non-empty mapping');
    return [];
  }
  const out: Seen[] = [];
  for (const [key, c] of Object.entries(p.components)) {
    const where = `${topic} [components.${key}]`;
    const sub: Report = (k, msg) => report(`components.${key}.${k}`, msg);
    if (!/^[a-zA-Z0-9_-]+$/.test(key)) sub('', 'component ids are [a-zA-Z0-9_-]');
    if (!isObj(c) || typeof c.platform !== 'string' || !isPlatform(c.platform)) {
      sub('platform', `expected one of ${PLATFORMS.join(', ')}`);
      continue;
    }
    if (Object.keys(c).length === 1) continue; // `{ platform }` alone removes the component
    for (const k of ['device', 'origin']) {
      if (c[k] !== undefined) sub(k, 'root-only in a device-based message');
    }
    const merged: Record<string, unknown> = {
      availability: p.availability,
      availability_mode: p.availability_mode,
      ...c,
      device: p.device,
      origin: p.origin,
    };
    for (const k of ['availability', 'availability_mode']) {
      if (merged[k] === undefined) delete merged[k];
    }
    validateEntity(c.platform, merged, sub);
    out.push({ where, payload: merged });
  }
  return out;
}

function checkAcrossSet(entities: readonly Seen[], out: string[]): void {
  const uniqueIds = new Map<string, string>();
  const devices = new Map<string, { where: string; fields: string }>();
  const identifiers = new Set<string>();
  const vias: Array<{ where: string; via: string }> = [];
  for (const e of entities) {
    const uid = e.payload.unique_id;
    if (typeof uid === 'string') {
      const first = uniqueIds.get(uid);
      if (first) out.push(`${e.where}: unique_id: ${uid} is also used by ${first}`);
      else uniqueIds.set(uid, e.where);
    }
    const device = e.payload.device;
    if (!isObj(device) || !Array.isArray(device.identifiers)) continue;
    const fields = JSON.stringify(
      ['name', 'model', 'manufacturer', 'sw_version', 'via_device'].map((k) => device[k] ?? null),
    );
    for (const id of device.identifiers) {
      if (typeof id !== 'string') continue;
      identifiers.add(id);
      const known = devices.get(id);
      if (!known) devices.set(id, { where: e.where, fields });
      else if (known.fields !== fields) {
        out.push(
          `${e.where}: device: ${id} differs from ${known.where} (name/model/manufacturer/sw_version/via_device)`,
        );
      }
    }
    if (typeof device.via_device === 'string')
      vias.push({ where: e.where, via: device.via_device });
  }
  for (const v of vias) {
    if (!identifiers.has(v.via))
      out.push(`${v.where}: device.via_device: ${v.via} is not a device in this set`);
  }
}

function parsePayload(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
    try {
      const parsed: unknown = JSON.parse(payload.toString());
      return isObj(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return isObj(payload) ? payload : undefined;
}

function isPlatform(s: string): s is Platform {
  return (PLATFORMS as readonly string[]).includes(s);
}
