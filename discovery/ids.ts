import { createHash } from 'node:crypto';
import { slugify } from '../src/core/slug.js';

/**
 * Identifiers for devices, entities and discovery topics. They are built only from the
 * node id, host id, domain and a stable key, never from display names, so renaming
 * something in HA's eyes never creates a new entity.
 */

/** `outpost_<node>`: the discovery node_id and the agent device identifier. */
export function agentScope(node: string): string {
  return `outpost_${slugify(node)}`;
}

/** `outpost_<node>_<host>`: the host device identifier. */
export function hostScope(node: string, host: string): string {
  return `${agentScope(node)}_${slugify(host)}`;
}

/**
 * `outpost_<node>_service_<id>`: the device of a service the agent watches (Home Assistant,
 * Zigbee2MQTT). A host named `service_<id>` would share it: config refuses such host ids.
 */
export function serviceScope(node: string, service: string): string {
  return `${agentScope(node)}_service_${slugify(service)}`;
}

/**
 * A topic- and id-safe token for a free-form key (container key, mount, job). Where
 * slugify had to change the key, a short hash of the original keeps distinct keys
 * distinct ("/mnt/data" and "/mnt_data", or two all-unicode names).
 */
export function idToken(raw: string): string {
  const slug = slugify(raw);
  if (slug === raw) return slug;
  const hash = createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, 6);
  return slug === '_' ? `x${hash}` : `${slug}_${hash}`;
}

/**
 * An entity id object part for `default_entity_id`: HA entity ids are lower-case
 * [a-z0-9_] without leading, trailing or double underscores.
 */
export function entityObjectId(raw: string): string {
  const s = raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  return s.length > 0 ? s : 'outpost';
}
