import type { DiscoveryConfig, DiscoveryPayload } from './entity.js';
import { parseConfigTopic } from './topics.js';

/**
 * Device-based discovery (HA 2024.11+, HA_DOCS.deviceDiscovery): one retained message per
 * device at `<prefix>/device/<node_id>/<object_id>/config` with `device` and `origin` at
 * the root and each entity under `components`, tagged with its `platform`.
 */
export interface DeviceMessage {
  readonly topic: string;
  readonly payload: DiscoveryPayload;
  readonly retain: true;
  readonly qos: 1;
}

/** A component being removed: HA wants it sent once as `{ platform }` alone. */
export interface ComponentRemoval {
  readonly deviceTopic: string;
  readonly componentKey: string;
  readonly platform: string;
}

/** The component removal for a published single-component topic. */
export function removalFor(
  entityTopic: string,
  deviceTopic: string,
  prefix: string,
): ComponentRemoval | undefined {
  const parsed = parseConfigTopic(entityTopic, prefix);
  if (!parsed) return undefined;
  return { deviceTopic, componentKey: parsed.objectId, platform: parsed.component };
}

/**
 * Groups entity configs into one message per device. Removed components are included as
 * `{ platform }` so HA drops them; a device left with nothing but removals gets none here
 * (its topic is cleared with an empty payload instead).
 */
export function groupByDevice(
  configs: readonly DiscoveryConfig[],
  removals: readonly ComponentRemoval[] = [],
): DeviceMessage[] {
  const groups = new Map<string, DiscoveryConfig[]>();
  for (const c of configs) {
    const list = groups.get(c.deviceTopic) ?? [];
    list.push(c);
    groups.set(c.deviceTopic, list);
  }
  const out: DeviceMessage[] = [];
  for (const [topic, list] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const first = list[0]!;
    const components: Record<string, DiscoveryPayload> = {};
    for (const r of removals) {
      if (r.deviceTopic === topic) components[r.componentKey] = { platform: r.platform };
    }
    for (const c of [...list].sort((a, b) => (a.componentKey < b.componentKey ? -1 : 1))) {
      components[c.componentKey] = componentPayload(c);
    }
    out.push({
      topic,
      payload: { device: first.payload.device, origin: first.payload.origin, components },
      retain: true,
      qos: 1,
    });
  }
  return out;
}

// `device` and `origin` are root-only in a device message and may not be overridden.
function componentPayload(c: DiscoveryConfig): DiscoveryPayload {
  const { device: _device, origin: _origin, ...rest } = c.payload;
  return { platform: c.platform, ...rest };
}
