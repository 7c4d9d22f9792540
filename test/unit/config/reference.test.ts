import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allKeyPaths } from '../../../src/config/introspect.js';
import { configSchema } from '../../../src/config/schema.js';

describe('README configuration reference', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('## Configuration reference');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const documented = new Set([...section.matchAll(/^\| `([^`]+)` *\|/gm)].map((m) => m[1]!));

  it('documents every key of the schema', () => {
    const missing = allKeyPaths(configSchema).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  it('documents no key the schema does not have', () => {
    const known = new Set(allKeyPaths(configSchema));
    expect([...documented].filter((k) => !known.has(k))).toEqual([]);
  });
});
