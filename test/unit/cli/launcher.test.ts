import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launcherPath, parseLauncher, readLauncher } from '../../helpers/launcher.js';

/**
 * bin/outpost is the one definition of how the agent runs: the package's command and
 * `npm start` go through it, the npm package ships it runnable, and no other file carries
 * a copy of its flags or environment. (The Docker image: test/unit/docker; the running
 * agent: test/integration/agent/launcher.test.ts.)
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const LAUNCHER = launcherPath(ROOT);
const text = readFileSync(LAUNCHER, 'utf8');
const launcher = readLauncher(ROOT);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
};

describe('parseLauncher', () => {
  it('reads the environment defaults and the node flags up to the script', () => {
    const def = parseLauncher(
      [
        '#!/bin/sh',
        '# export NOT_THIS="${NOT_THIS:-1}"',
        'export A_B="${A_B:-4}"',
        'export C_="${C_:-65536}"',
        'export MISMATCHED="${OTHER:-1}"',
        'exec node --one=1 --two \\',
        '  --three "$entry" "$@"',
      ].join('\n'),
    );
    expect(def).toEqual({ env: { A_B: '4', C_: '65536' }, flags: ['--one=1', '--two', '--three'] });
  });

  it('refuses a launcher it cannot read rather than report no flags', () => {
    expect(() => parseLauncher('#!/bin/sh\nexport A="${A:-1}"\nnode "$entry"\n')).toThrow(
      /exec node/,
    );
    expect(() => parseLauncher('#!/bin/sh\nexec node "$entry"\n')).toThrow(/no environment/);
  });
});

describe('bin/outpost', () => {
  it('is a POSIX shell script, executable, that execs node', () => {
    expect(text.split('\n', 1)[0]).toBe('#!/bin/sh');
    expect(statSync(LAUNCHER).mode & 0o111).toBe(0o111);
    expect(text).toMatch(/^exec node /m);
    expect(text).toContain('readlink -f');
  });

  it('explains every variable and flag it sets in its comment', () => {
    const comment = text
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    for (const [name, value] of Object.entries(launcher.env))
      expect(comment, name).toContain(`${name}=${value}`);
    for (const flag of launcher.flags) expect(comment, flag).toContain(`#   ${flag} `);
  });
});

describe('the npm package', () => {
  it('installs the launcher as the outpost command', () => {
    expect(pkg.bin).toEqual({ outpost: 'bin/outpost' });
  });

  it('npm start builds, then execs the launcher (signals reach the agent)', () => {
    expect(pkg.scripts.start).toMatch(/&& exec bin\/outpost run$/);
  });

  it('ships the launcher, executable, and the agent it runs', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [packed] = JSON.parse(out) as { files: { path: string; mode: number }[] }[];
    const files = new Map(packed!.files.map((f) => [f.path, f.mode]));
    expect(files.get('bin/outpost')! & 0o111).toBe(0o111);
    expect(files.has('dist/agent/main.js'), 'dist/agent/main.js (npm run build)').toBe(true);
  });
});

/** Files of the repository worth searching: what .gitignore leaves out is not. */
function repoFiles(dir: string): string[] {
  const skip = new Set(['node_modules', 'dist', '.git', 'data', 'coverage', 'test-results.json']);
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (skip.has(e.name) || e.name.endsWith('.log')) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? repoFiles(path) : e.isFile() ? [path] : [];
  });
}

describe('the one definition', () => {
  it('no other file sets its variables or repeats its flags', () => {
    // BENCHMARKS.md is written by the bench, which reads the launcher; a file may name one
    // flag (a comment explaining it), but two is a copy.
    const allowed = new Set(['bin/outpost', 'BENCHMARKS.md']);
    const copies: string[] = [];
    for (const file of repoFiles(ROOT)) {
      const rel = relative(ROOT, file);
      if (allowed.has(rel)) continue;
      const body = readFileSync(file, 'utf8');
      const sets = Object.keys(launcher.env).filter((name) => body.includes(`${name}=`));
      const flags = launcher.flags.filter((flag) => body.includes(flag));
      if (sets.length > 0 || flags.length > 1)
        copies.push(`${rel}: ${[...sets, ...flags].join(' ')}`);
    }
    expect(copies).toEqual([]);
  });
});
