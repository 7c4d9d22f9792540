/**
 * What discovery has published, so a restart republishes only what changed and can
 * remove what is gone (DESIGN.md "No phantom entities"). One interface, two stores, one
 * contract test suite (test/unit/discovery/registry-contract.ts).
 */

/** One published entity config, keyed by its single-component discovery topic. */
export interface RegistryEntry {
  /** payloadHash() of the published payload. */
  readonly hash: string;
  /** Retained state topics the entity owned, cleared with it. */
  readonly stateTopics: readonly string[];
  /** Set when the entity was published inside this device-based discovery message. */
  readonly deviceTopic?: string;
  /** DiscoveryConfig.deviceId; absent in entries written before it was recorded. */
  readonly deviceId?: string;
  /** DiscoveryConfig.observed; absent (treated as observed) in older entries. */
  readonly observed?: boolean;
}

/** Several changes persisted as one write. */
export interface RegistryChange {
  readonly set?: ReadonlyArray<readonly [topic: string, entry: RegistryEntry]>;
  readonly delete?: readonly string[];
}

/** Published config topic → payload hash, persisted by the implementation. */
export interface DiscoveryRegistry {
  get(topic: string): RegistryEntry | undefined;
  /** Every entry, sorted by topic. */
  list(): Array<[string, RegistryEntry]>;
  set(topic: string, entry: RegistryEntry): Promise<void>;
  delete(topic: string): Promise<void>;
  apply(change: RegistryChange): Promise<void>;
  /** Lets go of what is held in memory between rounds, where the store can read it back. */
  release?(): void;
}

export { MemoryDiscoveryRegistry } from './registry-memory.js';
export { FileDiscoveryRegistry } from './registry-file.js';
