import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeTempFiles, writeFileAtomic } from '../src/core/atomic-file.js';
import { errorMessage } from '../src/core/errors.js';
import type { RegistryChange, RegistryEntry } from './registry.js';
import type { DiscoveryRegistry } from './registry.js';
import { applyChange, sortedEntries } from './registry-memory.js';

/** Where a file registry reports what it had to recover from. */
export interface WarnSink {
  warn(obj: object, msg: string): void;
}

export interface FileRegistryOptions {
  log?: WarnSink;
}

const VERSION = 1;

/**
 * A registry persisted as one JSON file, replaced atomically on every change
 * (writeFileAtomic). A crash leaves either the old file or the new one, never half of
 * one; the temp files it leaves are removed on open.
 *
 * `release()` lets go of the entries between rounds (25,000 of them are ~10 MB of heap);
 * the next read loads the file again, once every write has landed.
 */
export class FileDiscoveryRegistry implements DiscoveryRegistry {
  readonly #path: string;
  readonly #log: WarnSink | undefined;
  #map: Map<string, RegistryEntry> | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** Why the file could not be read, when it was treated as empty. */
  readonly loadProblem: string | undefined;

  private constructor(
    path: string,
    map: Map<string, RegistryEntry>,
    log: WarnSink | undefined,
    problem?: string,
  ) {
    this.#path = path;
    this.#map = map;
    this.#log = log;
    this.loadProblem = problem;
  }

  /** Opens (or creates) the registry file; a corrupt file is set aside and reported. */
  static async open(path: string, opts: FileRegistryOptions = {}): Promise<FileDiscoveryRegistry> {
    await mkdir(dirname(path), { recursive: true });
    await removeTempFiles(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return new FileDiscoveryRegistry(path, new Map(), opts.log);
      }
      throw err;
    }
    const parsed = parseRegistry(text);
    if (typeof parsed === 'string') {
      const aside = `${path}.corrupt`;
      await rename(path, aside).catch(() => undefined);
      opts.log?.warn(
        { path, movedTo: aside, problem: parsed },
        'discovery registry unreadable; starting empty (configs will be republished)',
      );
      return new FileDiscoveryRegistry(path, new Map(), opts.log, parsed);
    }
    return new FileDiscoveryRegistry(path, parsed, opts.log);
  }

  get(topic: string): RegistryEntry | undefined {
    return this.#entries().get(topic);
  }

  list(): Array<[string, RegistryEntry]> {
    return sortedEntries(this.#entries());
  }

  set(topic: string, entry: RegistryEntry): Promise<void> {
    return this.apply({ set: [[topic, entry]] });
  }

  delete(topic: string): Promise<void> {
    return this.apply({ delete: [topic] });
  }

  apply(change: RegistryChange): Promise<void> {
    const map = this.#entries();
    applyChange(map, change);
    const text = serialise(map);
    // Writes run one at a time, so an older snapshot never lands after a newer one.
    const next = this.#chain
      .catch(() => undefined)
      .then(() => writeFileAtomic(this.#path, text, { mode: 0o600 }));
    this.#chain = next;
    return next;
  }

  /**
   * Drops the entries from memory once every write so far has landed (a failed write
   * keeps them: the file would be behind). Reads after that load the file again.
   */
  release(): void {
    const chain = this.#chain;
    chain.then(
      () => {
        if (this.#chain === chain) this.#map = undefined;
      },
      () => undefined,
    );
  }

  /** Whether the entries are in memory now (for tests). */
  get resident(): boolean {
    return this.#map !== undefined;
  }

  #entries(): Map<string, RegistryEntry> {
    if (this.#map) return this.#map;
    let map = new Map<string, RegistryEntry>();
    try {
      const parsed = parseRegistry(readFileSync(this.#path, 'utf8'));
      if (typeof parsed === 'string') throw new Error(parsed);
      map = parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Rewritten by this process only; if it cannot be read back, republishing is safe.
        this.#log?.warn(
          { path: this.#path, problem: errorMessage(err) },
          'discovery registry unreadable on reload; starting empty (configs will be republished)',
        );
      }
    }
    this.#map = map;
    return map;
  }
}

function serialise(map: Map<string, RegistryEntry>): string {
  return `${JSON.stringify({ version: VERSION, entries: Object.fromEntries(sortedEntries(map)) }, null, 1)}\n`;
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
  // Thousands of entries repeat the same device and state topics: keep one copy of each.
  const strings = new Map<string, string>();
  const intern = (v: string): string => strings.get(v) ?? (strings.set(v, v), v);
  const lists = new Map<string, readonly string[]>();
  for (const [topic, e] of Object.entries(data.entries)) {
    if (!isEntry(e)) return `entry ${JSON.stringify(topic)}: expected {hash, stateTopics}`;
    const key = e.stateTopics.join('\n');
    const stateTopics = lists.get(key) ?? e.stateTopics.map(intern);
    lists.set(key, stateTopics);
    const entry: RegistryEntry = { ...e, stateTopics };
    if (e.deviceTopic !== undefined) Object.assign(entry, { deviceTopic: intern(e.deviceTopic) });
    if (e.deviceId !== undefined) Object.assign(entry, { deviceId: intern(e.deviceId) });
    map.set(topic, entry);
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
