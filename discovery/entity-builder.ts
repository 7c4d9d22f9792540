import { slugify } from '../src/core/slug.js';
import { agentScope, entityObjectId, idToken } from './ids.js';
import { METADATA } from './metadata.js';
import { configTopic, deviceConfigTopic } from './topics.js';
import type {
  DeviceRef,
  DiscoveryConfig,
  DiscoveryContext,
  DiscoveryPayload,
  EntitySpec,
} from './entity.js';

/** `<scope>_<domain>[_<subject>]_<key>`: never contains a display name. */
export function entityUniqueId(device: DeviceRef, spec: EntitySpec): string {
  const subject = spec.subject === undefined ? '' : `_${idToken(spec.subject)}`;
  return `${device.scope}_${slugify(spec.domain)}${subject}_${slugify(spec.key)}`;
}

/**
 * Builds one entity's discovery config from the metadata table and a spec. Full keys
 * only (HA accepts abbreviations, but one spelling keeps tests and diffs readable).
 */
/** Domains whose subjects come from observation rather than from config. */
const OBSERVED_DOMAINS: ReadonlySet<string> = new Set(['container', 'disk']);

export function buildEntity(
  ctx: DiscoveryContext,
  device: DeviceRef,
  spec: EntitySpec,
): DiscoveryConfig {
  const meta = METADATA[spec.kind];
  const nodeId = agentScope(ctx.root.node);
  const uniqueId = entityUniqueId(device, spec);
  // The node_id level already names the node, so the object id drops that prefix.
  const objectId = uniqueId.slice(nodeId.length + 1);
  const payload: DiscoveryPayload = {
    name: spec.name,
    unique_id: uniqueId,
    // `object_id` is deprecated since HA 2025.10 (HA_DOCS.defaultEntityId): the default
    // entity id is `<platform>.<object>`, used only when the entity is first added.
    default_entity_id: `${meta.platform}.${entityObjectId(uniqueId.slice('outpost_'.length))}`,
    device: device.payload,
    origin: ctx.origin,
  };
  if (spec.withAvailability !== false) {
    payload.availability = spec.availability ?? device.availability;
    payload.availability_mode = 'all';
  }
  setIf(payload, 'state_topic', spec.stateTopic);
  setIf(payload, 'value_template', spec.valueTemplate);
  setIf(payload, 'json_attributes_topic', spec.jsonAttributesTopic);
  setIf(payload, 'json_attributes_template', spec.jsonAttributesTemplate);
  setIf(payload, 'command_topic', spec.commandTopic);
  setIf(payload, 'device_class', meta.device_class);
  setIf(payload, 'unit_of_measurement', meta.unit_of_measurement);
  setIf(payload, 'state_class', meta.state_class);
  setIf(
    payload,
    'entity_category',
    spec.entityCategory === null ? undefined : (spec.entityCategory ?? meta.entity_category),
  );
  setIf(payload, 'icon', spec.icon ?? meta.icon);
  Object.assign(payload, spec.options);
  if (spec.stateTopic !== undefined || spec.commandTopic !== undefined) payload.qos = 1;
  return {
    topic: configTopic(ctx.prefix, meta.platform, nodeId, objectId),
    payload,
    retain: true,
    qos: 1,
    platform: meta.platform,
    uniqueId,
    deviceTopic: deviceConfigTopic(ctx.prefix, nodeId, device.objectId),
    componentKey: objectId,
    stateTopics: spec.ownedStateTopics ?? [],
    deviceId: deviceIdOf(device),
    observed: OBSERVED_DOMAINS.has(spec.domain),
  };
}

/** The id a device's configs carry as their deviceId (and the registry files them under). */
export function deviceIdOf(device: DeviceRef): string {
  return device.payload.identifiers[0] ?? device.objectId;
}

function setIf(payload: DiscoveryPayload, key: string, value: unknown): void {
  if (value !== undefined) payload[key] = value;
}

/** A Jinja expression reading one field of the JSON state (HA templates, `value_json`). */
export function field(name: string): string {
  return `value_json[${JSON.stringify(name)}]`;
}

/** `{{ field }}`, rendering HA's `None` (unknown) when the field is missing or null. */
export function fieldTemplate(name: string): string {
  return `{{ ${field(name)} if ${field(name)} is defined and ${field(name)} is not none else None }}`;
}

/** ON when the Jinja condition holds: binary_sensor payload_on / payload_off default. */
export function onOffTemplate(condition: string): string {
  return `{{ 'ON' if ${condition} else 'OFF' }}`;
}

/**
 * The state of an enum sensor: the field when it is one of `options`, else `fallback` (one
 * of them too) or HA's `None` (unknown). HA's MQTT sensor drops any other value with a
 * warning and keeps showing the last one (HA_DOCS.sensorMqtt, `options`), so nothing outside
 * the list may reach it. A missing or null field renders `None` as fieldTemplate does.
 */
export function enumTemplate(name: string, options: readonly string[], fallback?: string): string {
  if (fallback !== undefined && !options.includes(fallback)) {
    throw new Error(`enum fallback ${JSON.stringify(fallback)} is not one of its options`);
  }
  const other = fallback === undefined ? 'None' : JSON.stringify(fallback);
  return (
    `{% set v = value_json.get(${JSON.stringify(name)}) %}` +
    `{{ None if v is none else (v if v in ${JSON.stringify(options)} else ${other}) }}`
  );
}
