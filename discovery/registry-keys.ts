import type { RegistryEntry } from './registry.js';

/** The device key of entries written before their device was recorded. */
export const UNKNOWN_DEVICE = '';

/** The device an entry is read and written with. */
export function deviceKey(entry: RegistryEntry): string {
  return entry.deviceId ?? UNKNOWN_DEVICE;
}
