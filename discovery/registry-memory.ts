import { deviceKey } from './registry-keys.js';
import type { DiscoveryRegistry, RegistryChange, RegistryEntry } from './registry.js';

/** Applies a change to a map in place. */
export function applyChange(map: Map<string, RegistryEntry>, change: RegistryChange): void {
  for (const topic of change.delete ?? []) map.delete(topic);
  for (const [topic, entry] of change.set ?? []) {
    map.set(topic, { ...entry, stateTopics: [...entry.stateTopics] });
  }
}

export function sortedEntries(map: Map<string, RegistryEntry>): Array<[string, RegistryEntry]> {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A registry kept in memory. Instances made over the same `backing` map see each other's
 * writes, which stands in for reopening a persisted store in tests.
 */
export class MemoryDiscoveryRegistry implements DiscoveryRegistry {
  protected readonly map: Map<string, RegistryEntry>;

  constructor(backing: Map<string, RegistryEntry> = new Map()) {
    this.map = backing;
  }

  get(topic: string): RegistryEntry | undefined {
    return this.map.get(topic);
  }

  list(): Array<[string, RegistryEntry]> {
    return sortedEntries(this.map);
  }

  device(deviceId: string): Array<[string, RegistryEntry]> {
    return this.list().filter(([, e]) => deviceKey(e) === deviceId);
  }

  deviceIds(): string[] {
    return [...new Set([...this.map.values()].map(deviceKey))].sort();
  }

  set(topic: string, entry: RegistryEntry): Promise<void> {
    return this.apply({ set: [[topic, entry]] });
  }

  delete(topic: string): Promise<void> {
    return this.apply({ delete: [topic] });
  }

  apply(change: RegistryChange): Promise<void> {
    applyChange(this.map, change);
    return Promise.resolve();
  }
}
