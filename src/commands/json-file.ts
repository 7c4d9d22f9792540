import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../core/atomic-file.js';

/** Reads a JSON file; undefined when it does not exist or does not parse. */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Replaces a JSON file atomically (see writeFileAtomicSync). */
export function writeJsonFile(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value)}\n`, { mode: 0o640 });
}
