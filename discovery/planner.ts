import type { DiscoveryConfig, DiscoveryPayload } from './entity.js';
import { payloadHash } from './hash.js';
import type { RegistryEntry } from './registry.js';

/** How many consecutive successful observations an entity must be missing from. */
export const DEFAULT_PRUNE_AFTER = 3;

/** Absence counters per published config topic; replaced, never mutated. */
export interface PruneState {
  readonly absences: ReadonlyMap<string, number>;
}

export const EMPTY_PRUNE_STATE: PruneState = { absences: new Map() };

/**
 * What planning reads of a config: its payload, or only the payload's hash (so a round
 * over thousands of configs need not keep them while it sends).
 */
export type PlannedConfig = Pick<
  DiscoveryConfig,
  'topic' | 'deviceTopic' | 'deviceId' | 'stateTopics' | 'observed'
> &
  ({ readonly hash: string } | { readonly payload: DiscoveryPayload });

/** A config reduced to what planning reads. */
export function plannedConfig(c: DiscoveryConfig): PlannedConfig {
  const { topic, deviceTopic, deviceId, stateTopics, observed } = c;
  return { topic, deviceTopic, deviceId, stateTopics, observed, hash: payloadHash(c.payload) };
}

function hashOf(c: PlannedConfig): string {
  return 'hash' in c ? c.hash : payloadHash(c.payload);
}

export interface PlanInput {
  readonly desired: readonly PlannedConfig[];
  /** What was published before (DiscoveryRegistry.list()). */
  readonly published: ReadonlyArray<readonly [string, RegistryEntry]>;
  readonly prune: PruneState;
  /**
   * Whether the observation behind `desired` succeeded. A failed one (a host unreachable,
   * a collector erroring) can miss things that still exist, so it never removes anything.
   */
  readonly observationOk: boolean;
  readonly pruneAfter?: number;
  /** Whether configs go out in device-based messages; switching modes republishes. */
  readonly deviceBased?: boolean;
  /**
   * The devices still configured: an entry of any other goes at once. By default those of
   * `desired`; a plan of one device's configs passes every device of the model.
   */
  readonly devices?: ReadonlySet<string>;
}

export interface Removal {
  readonly topic: string;
  readonly entry: RegistryEntry;
}

export interface Plan {
  /** New configs and configs whose payload (or discovery mode) changed. */
  readonly publish: PlannedConfig[];
  /** Configs absent long enough: clear them with an empty retained payload. */
  readonly remove: Removal[];
  /** Retained state topics only removed entities used. */
  readonly clearState: string[];
  /** Published configs that are absent but not yet removed. */
  readonly held: string[];
  readonly prune: PruneState;
}

/** Pure diff of the desired configs against what was published (no eager pruning). */
export function planDiscovery(input: PlanInput): Plan {
  const pruneAfter = input.pruneAfter ?? DEFAULT_PRUNE_AFTER;
  const desired = new Map(input.desired.map((c) => [c.topic, c]));
  const published = new Map(input.published.map(([t, e]) => [t, e]));
  const publish = [...desired.values()].filter((c) =>
    needsPublish(c, published.get(c.topic), input.deviceBased === true),
  );

  const absences = new Map<string, number>();
  const remove: Removal[] = [];
  const held: string[] = [];
  const devices = input.devices ?? new Set(input.desired.map((c) => c.deviceId));
  for (const [topic, entry] of published) {
    if (desired.has(topic)) continue;
    if (absentByConfig(entry, devices)) {
      remove.push({ topic, entry });
      continue;
    }
    const before = input.prune.absences.get(topic) ?? 0;
    const count = input.observationOk ? before + 1 : before;
    if (count >= pruneAfter) {
      remove.push({ topic, entry });
    } else {
      absences.set(topic, count);
      held.push(topic);
    }
  }
  return {
    publish,
    remove,
    clearState: orphanedStateTopics(remove, desired, held, published),
    held,
    prune: { absences },
  };
}

/**
 * Config is never partial: an entity config alone defined, or one on a device that is no
 * longer configured at all (a removed host), is gone for certain and goes at once.
 */
function absentByConfig(entry: RegistryEntry, devices: ReadonlySet<string>): boolean {
  if (entry.observed === false) return true;
  return entry.deviceId !== undefined && !devices.has(entry.deviceId);
}

function needsPublish(
  config: PlannedConfig,
  entry: RegistryEntry | undefined,
  deviceBased: boolean,
): boolean {
  if (entry === undefined) return true;
  if (entry.hash !== hashOf(config)) return true;
  const publishedAs = entry.deviceTopic;
  return deviceBased ? publishedAs !== config.deviceTopic : publishedAs !== undefined;
}

function orphanedStateTopics(
  remove: readonly Removal[],
  desired: ReadonlyMap<string, PlannedConfig>,
  held: readonly string[],
  published: ReadonlyMap<string, RegistryEntry>,
): string[] {
  const inUse = new Set<string>();
  for (const c of desired.values()) c.stateTopics.forEach((t) => inUse.add(t));
  for (const t of held) published.get(t)?.stateTopics.forEach((s) => inUse.add(s));
  const out = new Set<string>();
  for (const r of remove)
    r.entry.stateTopics.filter((t) => !inUse.has(t)).forEach((t) => out.add(t));
  return [...out].sort();
}

/** The registry entry recording a config as published. */
export function registryEntryFor(config: PlannedConfig, deviceBased: boolean): RegistryEntry {
  const entry = {
    hash: hashOf(config),
    stateTopics: [...config.stateTopics],
    deviceId: config.deviceId,
    observed: config.observed,
  };
  return deviceBased ? { ...entry, deviceTopic: config.deviceTopic } : entry;
}
