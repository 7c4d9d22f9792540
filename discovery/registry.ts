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

/**
 * Published config topic → payload hash, persisted by the implementation, readable one
 * device at a time so a round over one changed device never reads the whole site.
 */
export interface DiscoveryRegistry {
  get(topic: string): RegistryEntry | undefined;
  /** Every entry, sorted by topic. */
  list(): Array<[string, RegistryEntry]>;
  /** The entries of one device (their deviceId, or UNKNOWN_DEVICE), sorted by topic. */
  device(deviceId: string): Array<[string, RegistryEntry]>;
  /** The device ids that have entries, sorted (UNKNOWN_DEVICE for entries without one). */
  deviceIds(): string[];
  set(topic: string, entry: RegistryEntry): Promise<void>;
  delete(topic: string): Promise<void>;
  /** Applies every change at once (one transaction where the store has them). */
  apply(change: RegistryChange): Promise<void>;
  /** Closes the store; nothing may be called after. */
  close?(): void;
}

export { UNKNOWN_DEVICE } from './registry-keys.js';
export { MemoryDiscoveryRegistry } from './registry-memory.js';
export { SqliteDiscoveryRegistry, DISCOVERY_DB_FILE } from './registry-sqlite.js';
