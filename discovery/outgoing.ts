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

/** The desired configs, one device at a time; each call builds them again. */
export type Devices = () => Iterable<readonly DiscoveryConfig[]>;

export interface OutgoingInput {
  readonly plan: Plan;
  /** Every desired config, by device; read once, while the messages are taken. */
  readonly devices: Devices;
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

/**
 * The ordered messages that carry out a plan, made as they are taken: a config's JSON is
 * built only when its turn comes, so a paced round over 25,000 configs holds one device's
 * worth at a time, not all of them for the minutes the send takes.
 */
export function* outgoingMessages(input: OutgoingInput): Generator<Outgoing> {
  yield* input.deviceBased ? deviceMode(input) : entityMode(input);
  for (const topic of input.plan.clearState) yield { topic, payload: '' };
}

function* entityMode({ plan, published, devices }: OutgoingInput): Generator<Outgoing> {
  const planned = new Map(plan.publish.map((c) => [c.topic, c]));
  const last: Outgoing[] = [];
  for (const [deviceTopic, members] of membersByDevice(published)) {
    if (members.some((t) => planned.has(t))) yield { topic: deviceTopic, payload: MIGRATE };
    const dropped = members.filter((t) => !planned.has(t));
    last.push({ topic: deviceTopic, payload: '', registry: { delete: dropped } });
  }
  if (planned.size > 0) {
    for (const device of devices()) {
      for (const c of device) {
        const p = planned.get(c.topic);
        if (p === undefined) continue;
        const set = [[c.topic, registryEntryFor(p, false)]] as const;
        yield { topic: c.topic, payload: JSON.stringify(c.payload), registry: { set } };
      }
    }
  }
  for (const r of plan.remove) {
    if (r.entry.deviceTopic === undefined) {
      yield { topic: r.topic, payload: '', registry: { delete: [r.topic] } };
    }
  }
  yield* last;
}

function* deviceMode(input: OutgoingInput): Generator<Outgoing> {
  const { plan, published } = input;
  const last: Outgoing[] = [];
  for (const c of plan.publish) {
    const before = published.get(c.topic);
    if (before && before.deviceTopic === undefined) {
      yield { topic: c.topic, payload: MIGRATE };
      last.push({ topic: c.topic, payload: '' });
    }
  }
  const affected = new Set(plan.publish.map((c) => c.deviceTopic));
  for (const r of plan.remove) {
    if (r.entry.deviceTopic === undefined) {
      yield { topic: r.topic, payload: '', registry: { delete: [r.topic] } };
    } else affected.add(r.entry.deviceTopic);
  }
  if (affected.size > 0) {
    for (const device of input.devices()) {
      const deviceTopic = device[0]?.deviceTopic;
      if (deviceTopic === undefined || !affected.delete(deviceTopic)) continue;
      yield* deviceMessages(deviceTopic, device, input);
    }
  }
  // Devices left with held or removed entities only.
  for (const deviceTopic of [...affected].sort()) yield* deviceMessages(deviceTopic, [], input);
  yield* last;
}

/** One device's message (with removal markers, then once more without them). */
function* deviceMessages(
  deviceTopic: string,
  desired: readonly DiscoveryConfig[],
  { plan, held, published, prefix }: OutgoingInput,
): Generator<Outgoing> {
  const live = [
    ...desired,
    ...held.filter((c) => published.get(c.topic)?.deviceTopic === deviceTopic),
  ];
  const removed = plan.remove.filter((r) => r.entry.deviceTopic === deviceTopic);
  const registry: RegistryChange = {
    set: plan.publish
      .filter((c) => c.deviceTopic === deviceTopic)
      .map((c) => [c.topic, registryEntryFor(c, true)] as const),
    delete: removed.map((r) => r.topic),
  };
  if (live.length === 0) {
    yield { topic: deviceTopic, payload: '', registry };
    return;
  }
  const markers = removed
    .map((r) => removalFor(r.topic, deviceTopic, prefix))
    .filter((m): m is ComponentRemoval => m !== undefined);
  yield { topic: deviceTopic, payload: deviceJson(live, markers), registry };
  // HA: after removing a component, send the config again without it.
  if (markers.length > 0) yield { topic: deviceTopic, payload: deviceJson(live, []) };
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

/**
 * Every message that re-announces what is published (after HA's birth message), one
 * device at a time; `held` are published configs no longer desired but not yet removed.
 */
export function* republishMessages(
  devices: Iterable<readonly DiscoveryConfig[]>,
  held: readonly DiscoveryConfig[],
  published: ReadonlyMap<string, RegistryEntry>,
  deviceBased: boolean,
): Generator<Outgoing> {
  const heldByDevice = groupConfigs(held);
  for (const device of devices) {
    const deviceTopic = device[0]?.deviceTopic;
    const extra = deviceTopic === undefined ? [] : (heldByDevice.get(deviceTopic) ?? []);
    if (deviceTopic !== undefined) heldByDevice.delete(deviceTopic);
    yield* republishDevice([...device, ...extra], published, deviceBased);
  }
  for (const rest of heldByDevice.values()) yield* republishDevice(rest, published, deviceBased);
}

function republishDevice(
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

/** Configs grouped by device topic, in first-seen order. */
export function groupConfigs(configs: Iterable<DiscoveryConfig>): Map<string, DiscoveryConfig[]> {
  const out = new Map<string, DiscoveryConfig[]>();
  for (const c of configs) {
    const list = out.get(c.deviceTopic) ?? [];
    list.push(c);
    out.set(c.deviceTopic, list);
  }
  return out;
}
