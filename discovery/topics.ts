/**
 * Discovery topics. HA's format is `<prefix>/<component>/[<node_id>/]<object_id>/config`
 * with node_id and object_id in [a-zA-Z0-9_-] (HA_DOCS.discovery). outpost always sets
 * node_id to `outpost_<node>` so one filter finds every config this node owns.
 */

const ID = /^[a-zA-Z0-9_-]+$/;

/** A single-component discovery topic. */
export function configTopic(
  prefix: string,
  component: string,
  nodeId: string,
  objectId: string,
): string {
  return `${prefix}/${component}/${nodeId}/${objectId}/config`;
}

/** A device-based discovery topic (HA 2024.11+): the component level is `device`. */
export function deviceConfigTopic(prefix: string, nodeId: string, objectId: string): string {
  return configTopic(prefix, 'device', nodeId, objectId);
}

/** Subscription filter for every retained discovery config under this node id. */
export function ownConfigFilter(prefix: string, nodeId: string): string {
  return `${prefix}/+/${nodeId}/+/config`;
}

export interface ParsedConfigTopic {
  prefix: string;
  component: string;
  nodeId: string | undefined;
  objectId: string;
}

/** Splits a discovery topic; undefined when it does not follow HA's format. */
export function parseConfigTopic(topic: string, prefix: string): ParsedConfigTopic | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const rest = topic.slice(prefix.length + 1).split('/');
  if (rest.length < 3 || rest.length > 4 || rest[rest.length - 1] !== 'config') return undefined;
  const component = rest[0]!;
  const nodeId = rest.length === 4 ? rest[1] : undefined;
  const objectId = rest[rest.length - 2]!;
  if (!/^[a-z_]+$/.test(component) || !ID.test(objectId)) return undefined;
  if (nodeId !== undefined && !ID.test(nodeId)) return undefined;
  return { prefix, component, nodeId, objectId };
}
