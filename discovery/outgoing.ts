import { groupByDevice, removalFor, type ComponentRemoval } from './device-based.js';
import type { DiscoveryConfig } from './entity.js';
import { registryEntryFor, type Plan } from './planner.js';
import type { RegistryChange, RegistryEntry } from './registry.js';

/** One message to publish (retained, QoS 1) and what the registry learns once it is sent. */
export interface Outgoing {
  readonly topic: string;
  /** JSON text, or '' to clear a retained message. */
  readonly payload: string;
  readonly registry?: RegistryChange;
}

export interface OutgoingInput {
  readonly plan: Plan;
  readonly desired: readonly DiscoveryConfig[];
  /** Last known configs of `plan.held` topics (those the process still remembers). */
  readonly held: readonly DiscoveryConfig[];
  /** The registry before this round. */
  readonly published: ReadonlyMap<string, RegistryEntry>;
  readonly deviceBased: boolean;
  readonly prefix: string;
}

// HA's migration between single-component and device-based discovery: unload the old
// config but keep the entity's settings (HA_DOCS.deviceDiscovery, "Migration").
const MIGRATE = JSON.stringify({ migrate_discovery: true });

/** The ordered messages that carry out a plan. Pure. */
export function outgoingMessages(input: OutgoingInput): Outgoing[] {
  const body = input.deviceBased ? deviceMode(input) : entityMode(input);
  const clears = input.plan.clearState.map((topic) => ({ topic, payload: '' }));
  return [...body, ...clears];
}

function entityMode({ plan, published }: OutgoingInput): Outgoing[] {
  const republished = new Set(plan.publish.map((c) => c.topic));
  const first: Outgoing[] = [];
  const last: Outgoing[] = [];
  for (const [deviceTopic, members] of membersByDevice(published)) {
    const moving = members.filter((t) => republished.has(t));
    if (moving.length > 0) first.push({ topic: deviceTopic, payload: MIGRATE });
    const dropped = members.filter((t) => !republished.has(t));
    last.push({ topic: deviceTopic, payload: '', registry: { delete: dropped } });
  }
  const main: Outgoing[] = plan.publish.map((c) => ({
    topic: c.topic,
    payload: JSON.stringify(c.payload),
    registry: { set: [[c.topic, registryEntryFor(c, false)]] },
  }));
  for (const r of plan.remove) {
    if (r.entry.deviceTopic === undefined) {
      main.push({ topic: r.topic, payload: '', registry: { delete: [r.topic] } });
    }
  }
  return [...first, ...main, ...last];
}

function deviceMode(input: OutgoingInput): Outgoing[] {
  const { plan, published, prefix } = input;
  const first: Outgoing[] = [];
  const main: Outgoing[] = [];
  const last: Outgoing[] = [];
  for (const c of plan.publish) {
    const before = published.get(c.topic);
    if (before && before.deviceTopic === undefined) {
      first.push({ topic: c.topic, payload: MIGRATE });
      last.push({ topic: c.topic, payload: '' });
    }
  }
  const affected = new Set(plan.publish.map((c) => c.deviceTopic));
  for (const r of plan.remove) {
    if (r.entry.deviceTopic === undefined) {
      main.push({ topic: r.topic, payload: '', registry: { delete: [r.topic] } });
    } else affected.add(r.entry.deviceTopic);
  }
  for (const deviceTopic of [...affected].sort()) {
    const live = [
      ...input.desired.filter((c) => c.deviceTopic === deviceTopic),
      ...input.held.filter((c) => published.get(c.topic)?.deviceTopic === deviceTopic),
    ];
    const removed = plan.remove.filter((r) => r.entry.deviceTopic === deviceTopic);
    const registry: RegistryChange = {
      set: plan.publish
        .filter((c) => c.deviceTopic === deviceTopic)
        .map((c) => [c.topic, registryEntryFor(c, true)] as const),
      delete: removed.map((r) => r.topic),
    };
    if (live.length === 0) {
      main.push({ topic: deviceTopic, payload: '', registry });
      continue;
    }
    const markers = removed
      .map((r) => removalFor(r.topic, deviceTopic, prefix))
      .filter((m): m is ComponentRemoval => m !== undefined);
    main.push({ topic: deviceTopic, payload: deviceJson(live, markers), registry });
    // HA: after removing a component, send the config again without it.
    if (markers.length > 0) main.push({ topic: deviceTopic, payload: deviceJson(live, []) });
  }
  return [...first, ...main, ...last];
}

function deviceJson(
  live: readonly DiscoveryConfig[],
  markers: readonly ComponentRemoval[],
): string {
  const [message] = groupByDevice(live, markers);
  return JSON.stringify(message!.payload);
}

function membersByDevice(published: ReadonlyMap<string, RegistryEntry>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [topic, entry] of published) {
    if (entry.deviceTopic === undefined) continue;
    const list = out.get(entry.deviceTopic) ?? [];
    list.push(topic);
    out.set(entry.deviceTopic, list);
  }
  return out;
}

/** Every message that re-announces what is published (after HA's birth message). */
export function republishMessages(
  configs: readonly DiscoveryConfig[],
  published: ReadonlyMap<string, RegistryEntry>,
  deviceBased: boolean,
): Outgoing[] {
  const single: Outgoing[] = [];
  const grouped: DiscoveryConfig[] = [];
  for (const c of configs) {
    const entry = published.get(c.topic);
    const inDevice = entry ? entry.deviceTopic !== undefined : deviceBased;
    if (inDevice) grouped.push(c);
    else single.push({ topic: c.topic, payload: JSON.stringify(c.payload) });
  }
  const devices = groupByDevice(grouped).map((m) => ({
    topic: m.topic,
    payload: JSON.stringify(m.payload),
  }));
  return [...single, ...devices];
}
