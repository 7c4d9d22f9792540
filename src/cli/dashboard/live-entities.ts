import { entityObjectId } from '../../../discovery/ids.js';
import { parseConfigTopic } from '../../../discovery/topics.js';

/** One retained message as the broker handed it over. */
export interface RetainedMessage {
  readonly topic: string;
  readonly payload: string;
}

/** The device an entity sits on, as its discovery config names it. */
export interface LiveDevice {
  /** Its first identifier: `outpost_<node>` (the agent) or `outpost_<node>_<host>`. */
  readonly id: string;
  readonly name: string;
}

/** One entity Home Assistant has from this node's retained discovery configs. */
export interface LiveEntity {
  /** The entity id HA gives it when first added: `default_entity_id` (or the older `object_id`). */
  readonly entityId: string;
  readonly platform: string;
  readonly uniqueId: string;
  readonly device: LiveDevice;
  /** The unique id after the device's own prefix: `container_demo-web_state`, `watchdog_problem`. */
  readonly local: string;
  readonly name: string;
  readonly stateTopic: string | undefined;
  readonly deviceClass: string | undefined;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What reading the retained configs gave: the entities, and why any config was passed over. */
export interface LiveEntitySet {
  readonly entities: readonly LiveEntity[];
  readonly skipped: readonly string[];
}

/**
 * The entities in a node's retained discovery configs, in either mode: one config per entity
 * (`<prefix>/<platform>/<node>/<object>/config`) or one per device (`<prefix>/device/...`,
 * HA 2024.11+, each entity under `components` with its `platform`). Entities created
 * disabled (`enabled_by_default: false`) are left out: a card on one would show "not
 * available" until someone enabled it. Sorted by entity id, so output never depends on the
 * order the broker sent them in.
 */
export function liveEntities(messages: readonly RetainedMessage[], prefix: string): LiveEntitySet {
  const byId = new Map<string, LiveEntity>();
  const skipped: string[] = [];
  for (const m of messages) {
    const parsed = parseConfigTopic(m.topic, prefix);
    if (!parsed) continue;
    const payload = parseObject(m.payload);
    if (!payload) {
      skipped.push(`${m.topic}: not a JSON object`);
      continue;
    }
    if (parsed.component === 'device') {
      const components = isObject(payload.components) ? payload.components : {};
      for (const [key, c] of Object.entries(components)) {
        if (!isObject(c) || typeof c.platform !== 'string') continue;
        // `{ platform }` alone is a removal (HA_DOCS.deviceDiscovery): no entity.
        if (Object.keys(c).length === 1) continue;
        const { platform, ...rest } = c;
        add(`${m.topic} components.${key}`, platform, { ...rest, device: payload.device });
      }
    } else {
      add(m.topic, parsed.component, payload);
    }
  }
  return {
    entities: [...byId.values()].sort((a, b) => compare(a.entityId, b.entityId)),
    skipped,
  };

  function add(where: string, platform: string, p: Record<string, unknown>): void {
    const made = toEntity(platform, p);
    if (typeof made === 'string') skipped.push(`${where}: ${made}`);
    else if (made) byId.set(made.entityId, made);
  }
}

function toEntity(platform: string, p: Record<string, unknown>): LiveEntity | string | undefined {
  if (p.enabled_by_default === false) return undefined;
  if (typeof p.unique_id !== 'string') return 'no unique_id';
  const device = isObject(p.device) ? p.device : undefined;
  const ids = device?.identifiers;
  const id: unknown =
    typeof ids === 'string' ? ids : Array.isArray(ids) ? (ids as unknown[])[0] : undefined;
  if (typeof id !== 'string') return 'no device identifiers';
  const name = typeof device?.name === 'string' ? device.name : id;
  const uniqueId = p.unique_id;
  return {
    entityId: entityIdOf(platform, p, uniqueId),
    platform,
    uniqueId,
    device: { id, name },
    local: uniqueId.startsWith(`${id}_`) ? uniqueId.slice(id.length + 1) : uniqueId,
    name: typeof p.name === 'string' ? p.name : uniqueId,
    stateTopic: typeof p.state_topic === 'string' ? p.state_topic : undefined,
    deviceClass: typeof p.device_class === 'string' ? p.device_class : undefined,
    payload: p,
  };
}

/**
 * `default_entity_id` (HA 2025.10+) is the whole id; the deprecated `object_id` is the part
 * after the platform. Without either HA would make one from the names, which a config cannot
 * predict: outpost always sets one, so the fallback follows outpost's own rule
 * (discovery/entity-builder.ts).
 */
function entityIdOf(platform: string, p: Record<string, unknown>, uniqueId: string): string {
  if (typeof p.default_entity_id === 'string') return p.default_entity_id;
  if (typeof p.object_id === 'string') return `${platform}.${p.object_id}`;
  return `${platform}.${entityObjectId(uniqueId.replace(/^outpost_/, ''))}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Plain code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
