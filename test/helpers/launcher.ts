import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * bin/outpost, the one definition of how the agent runs, read the way the tests and the
 * benchmarks need it: the environment it exports and the flags it gives node. Nothing here
 * repeats a flag; a launcher this cannot read is an error, never "no flags".
 */

/** The launcher's path in a checkout (or the installed package) at `root`. */
export function launcherPath(root: string): string {
  return join(root, 'bin', 'outpost');
}

/** The built agent the launcher runs, at `root`: the bundle (scripts/bundle.mjs). */
export function agentEntryPath(root: string): string {
  return join(root, 'dist', 'agent', 'main.js');
}

/** How the launcher runs node: its environment (defaults) and its node flags, in order. */
export interface LauncherDefinition {
  readonly env: Readonly<Record<string, string>>;
  readonly flags: readonly string[];
}

/**
 * Reads the launcher's text: every `export NAME="${NAME:-value}"` line is an environment
 * default, and the words of the `exec node …` command (continuation lines joined) that
 * start with `--`, up to the first that does not, are the node flags.
 */
export function parseLauncher(text: string): LauncherDefinition {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const env: Record<string, string> = {};
  for (const line of lines) {
    const m = /^export (\w+)="\$\{(\w+):-([^}]*)\}"$/.exec(line.trim());
    if (m && m[1] === m[2]) env[m[1]!] = m[3]!;
  }
  const exec = lines.map((l) => l.trim()).filter((l) => /^exec node\s/.test(l));
  if (exec.length !== 1) throw new Error(`expected one "exec node" line, found ${exec.length}`);
  const words = exec[0]!.split(/\s+/).slice(2);
  const end = words.findIndex((w) => !w.startsWith('--'));
  const flags = end < 0 ? words : words.slice(0, end);
  if (flags.length === 0 || Object.keys(env).length === 0)
    throw new Error('the launcher sets no environment or passes node no flags');
  return { env, flags };
}

/** The launcher at `root`, parsed. */
export function readLauncher(root: string): LauncherDefinition {
  return parseLauncher(readFileSync(launcherPath(root), 'utf8'));
}

/** "NAME=value … --flag …": the launcher's settings in its own words. */
export function launcherWords(def: LauncherDefinition): string {
  return [...Object.entries(def.env).map(([k, v]) => `${k}=${v}`), ...def.flags].join(' ');
}
