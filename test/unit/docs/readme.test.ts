import { describe, expect, it } from 'vitest';
import { readDoc } from './markdown.js';

/** The README reads in five minutes: short, and no prose line a reader has to scroll. */
describe('README.md', () => {
  const readme = readDoc('README.md');

  it('stays under 15 KB (the reference lives in docs/)', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(15 * 1024);
  });

  it('has no line over 200 characters outside tables', () => {
    const long = readme
      .split('\n')
      .map((line, i) => ({ line, n: i + 1 }))
      .filter(({ line }) => line.length > 200 && !line.startsWith('|'))
      .map(({ n, line }) => `README.md:${n}: ${line.slice(0, 60)}…`);
    expect(long).toEqual([]);
  });

  it('names the two commands CI runs, and the CLI as it is called from a clone', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
    expect(readDoc('.ci/run'), '.ci/run runs the same test command').toMatch(/^npm test$/m);
    expect(readme).toContain('npx outpost');
    expect(readme).toContain('npm install -g .');
  });
});
