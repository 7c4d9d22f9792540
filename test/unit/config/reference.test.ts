import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allKeyPaths } from '../../../src/config/introspect.js';
import { configSchema } from '../../../src/config/schema.js';

/** The key cells of a markdown table: rows that start with `| \`key\` |`. */
function keyRows(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([^`]+)` *\|/gm)].map((m) => m[1]!);
}

describe('configuration reference (docs/configuration.md)', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const documented = new Set(keyRows(doc));

  it('has a row for every key of the schema', () => {
    const missing = allKeyPaths(configSchema).filter((k) => !documented.has(k));
    expect(missing, 'keys without a row in docs/configuration.md').toEqual([]);
  });

  it('has no row for a key the schema does not have', () => {
    const known = new Set(allKeyPaths(configSchema));
    const unknown = [...documented].filter((k) => !known.has(k));
    expect(unknown, 'rows of docs/configuration.md naming no key').toEqual([]);
  });

  it('has each key once', () => {
    const rows = keyRows(doc);
    expect(rows.filter((k, i) => rows.indexOf(k) !== i)).toEqual([]);
  });

  it('is the only configuration table: README.md keeps none', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const known = new Set(allKeyPaths(configSchema));
    const stray = keyRows(readme).filter((k) => known.has(k));
    expect(stray, 'config rows in README.md belong in docs/configuration.md').toEqual([]);
  });
});
