import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseYaml, releaseYamlParser } from '../../../src/config/yaml-parser.js';

const require = createRequire(import.meta.url);
const yamlModules = () =>
  Object.keys(require.cache).filter((k) => k.includes('/node_modules/yaml/'));

describe('parseYaml', () => {
  it('gives plain values, and syntax errors with where they are', () => {
    expect(parseYaml('a: 1\nb: [x, "y"]\n')).toEqual({
      value: { a: 1, b: ['x', 'y'] },
      problems: [],
    });
    const bad = parseYaml('a: 1\na: 2\n');
    expect(bad.value).toBeUndefined();
    expect(bad.problems).toEqual([
      { message: expect.stringMatching(/unique/i) as unknown, line: 2, col: 1 },
    ]);
  });

  it('drops the parser from require’s cache when released, and loads it again on use', () => {
    parseYaml('a: 1');
    expect(yamlModules().length).toBeGreaterThan(10);
    releaseYamlParser();
    expect(yamlModules()).toEqual([]);
    expect(parseYaml('b: 2').value).toEqual({ b: 2 });
    expect(yamlModules().length).toBeGreaterThan(10);
  });
});
