import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { docFiles, fences, readDoc } from './markdown.js';

/**
 * Every ```yaml block in README.md and docs/ is an outpost config, and the real loader
 * takes it: the quick starts and the capability pages' examples cannot rot. A YAML block
 * that is something else (Home Assistant's, compose's) is fenced as `yaml not-config`.
 */

/** Every `${VAR}` is set: the examples read secrets from the environment. */
const ENV: NodeJS.ProcessEnv = new Proxy(
  {},
  {
    get: (_t, name) =>
      typeof name === 'string' && name !== 'LOG_LEVEL' ? 'example-secret-0123456789' : undefined,
    has: (_t, name) => typeof name === 'string' && name !== 'LOG_LEVEL',
  },
);

function configBlocks(file: string) {
  return fences(readDoc(file)).filter((f) => /^ya?ml$/.test(f.info));
}

/** The loader's problems for one block, as `file:line: problem` lines (none when valid). */
function problems(file: string, body: string, line: number): string[] {
  try {
    parseConfig(body, { env: ENV, file: `${file}:${line}` });
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

const withBlocks = docFiles().filter((f) => configBlocks(f).length > 0);

describe('YAML config examples in README.md and docs/', () => {
  it.each(withBlocks)('%s: every config example loads', (file) => {
    const bad = configBlocks(file).flatMap((b) => problems(file, b.body, b.line));
    expect(bad).toEqual([]);
  });

  it('README.md has a quick start config per scenario', () => {
    const blocks = configBlocks('README.md').map((b) => b.body);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(blocks.some((b) => /ssh:/.test(b) && /host_key:/.test(b))).toBe(true);
    expect(blocks.some((b) => /^uplink:/m.test(b))).toBe(true);
    expect(blocks.some((b) => /mode: external/.test(b))).toBe(true);
  });

  it('tells a wrong example from a right one', () => {
    expect(problems('x.md', 'hosts:\n  - id: local\n', 1)).toEqual([]);
    expect(problems('x.md', 'hosts:\n  - id: local\n    sshh: {}\n', 3)[0]).toMatch(
      /^x\.md:3: .*hosts\[0\]/s,
    );
    expect(problems('x.md', 'watchdog: { interval: soon }\n', 1)[0]).toMatch(/interval/);
  });
});
