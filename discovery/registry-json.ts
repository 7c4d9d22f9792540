import { readFile } from 'node:fs/promises';
import { errorMessage } from '../src/core/errors.js';
import type { RegistryEntry } from './registry.js';

/**
 * The registry file older versions kept (`<data_dir>/discovery.json`, one JSON document
 * replaced whole on every change). Read once, to move its entries into SQLite.
 */

const VERSION = 1;

/** Its name in the data dir. */
export const LEGACY_REGISTRY_FILE = 'discovery.json';

/** What the file held: its entries, or why it could not be read. */
export type RegistryFile =
  { readonly entries: Map<string, RegistryEntry> } | { readonly problem: string };

/** Reads the file, or undefined when there is none. */
export async function readRegistryFile(path: string): Promise<RegistryFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { problem: `cannot read it: ${errorMessage(err)}` };
  }
  const parsed = parseRegistry(text);
  return typeof parsed === 'string' ? { problem: parsed } : { entries: parsed };
}

/** The file's text for these entries (what older versions wrote; tests make one with it). */
export function registryFileText(entries: ReadonlyMap<string, RegistryEntry>): string {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${JSON.stringify({ version: VERSION, entries: Object.fromEntries(sorted) }, null, 1)}\n`;
}

/** The entries, or a string saying what is wrong with the file. */
function parseRegistry(text: string): Map<string, RegistryEntry> | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${errorMessage(err)}`;
  }
  if (!isObject(data) || data.version !== VERSION || !isObject(data.entries)) {
    return `expected {"version": ${VERSION}, "entries": {...}}`;
  }
  const map = new Map<string, RegistryEntry>();
  for (const [topic, e] of Object.entries(data.entries)) {
    if (!isEntry(e)) return `entry ${JSON.stringify(topic)}: expected {hash, stateTopics}`;
    map.set(topic, e);
  }
  return map;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEntry(e: unknown): e is RegistryEntry {
  return (
    isObject(e) &&
    typeof e.hash === 'string' &&
    Array.isArray(e.stateTopics) &&
    e.stateTopics.every((t) => typeof t === 'string') &&
    (e.deviceTopic === undefined || typeof e.deviceTopic === 'string') &&
    (e.deviceId === undefined || typeof e.deviceId === 'string') &&
    (e.observed === undefined || typeof e.observed === 'boolean')
  );
}
