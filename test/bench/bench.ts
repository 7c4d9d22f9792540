import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { writeFileAtomicSync } from '../../src/core/atomic-file.js';
import { useUncachedPacketNumbers } from '../../src/mqtt/packet-writer.js';
import { launcherWords } from '../helpers/launcher.js';
import { shippedLaunch } from './agent-process.js';
import { loadNow, type Benchmark, type Figure } from './framework.js';
import { benchmarks } from './registry.js';
import { formatValue, machineInfo, renderReport, renderSection } from './report.js';

/**
 * `npm run bench [-- NAME…]`: runs every registered benchmark (or those whose name
 * contains one of the NAMEs), prints their figures and rewrites BENCHMARKS.md, keeping the
 * sections of benchmarks that did not run. Exit 1 when a benchmark fails (its old section
 * is kept), 2 on a filter that matches nothing.
 */

// No --node-defaults: such a switch changed only this process, never the agents it spawns,
// so its sections said "node defaults" over agents that ran with every launcher flag (issue
// 15). The targets are judged as the agent ships; a benchmark that compares with plain
// node does it explicitly, side by side in the same run (agent-idle-rss), and baselines run
// as bare tools would (baseline.ts).
const USAGE = `usage: npm run bench [-- NAME…]

Runs the benchmarks (all, or those whose name contains a NAME) and rewrites BENCHMARKS.md.
They run under the agent's launcher (bin/outpost: its node flags and malloc settings, as
it ships); the agents they spawn are started through it; baselines run under plain node.
Benchmarks: ${benchmarks.map((b) => b.name).join(', ')}`;

/** The repository root: the nearest directory above this file with outpost's package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'outpost'
    ) {
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the outpost repository root');
    dir = up;
  }
}

function select(args: readonly string[]): Benchmark[] | string {
  if (args.length === 0) return [...benchmarks];
  const unknown = args.filter((a) => !benchmarks.some((b) => b.name.includes(a)));
  if (unknown.length > 0) return `no benchmark matches ${unknown.map((u) => `"${u}"`).join(', ')}`;
  return benchmarks.filter((b) => args.some((a) => b.name.includes(a)));
}

function printFigures(name: string, figures: readonly Figure[]): void {
  const width = Math.max(...figures.map((f) => f.label.length));
  console.log(`\n${name}`);
  for (const f of figures) {
    const value = `${formatValue(f.value)} ${f.unit}`.trim();
    console.log(`  ${f.label.padEnd(width)}  ${value}${f.note ? `  (${f.note})` : ''}`);
  }
}

/** Set (to the launcher's words) in the bench process that runs under the agent's launcher. */
const LAUNCHED = 'OUTPOST_BENCH_LAUNCHER';
/** This process only starts the one that runs the benchmarks under the launcher. */
const relaunching = process.env[LAUNCHED] === undefined;

/**
 * Runs this script again under the agent's launcher (its node flags and malloc
 * environment, read from bin/outpost), so the benchmarks that measure the
 * agent's components in this process measure them as they run in the agent. Interrupts
 * are passed on; the exit code is the child's.
 */
function relaunch(root: string, argv: readonly string[]): Promise<number> {
  const launch = shippedLaunch(root);
  const child = spawn(
    process.execPath,
    [...launch.flags, fileURLToPath(import.meta.url), ...argv],
    {
      env: { ...process.env, ...launch.env, [LAUNCHED]: launcherWords(launch) },
      stdio: 'inherit',
    },
  );
  // Ctrl-C reaches the child through the terminal's process group; SIGTERM is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 143)));
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const selected = select(argv);
  if (typeof selected === 'string') {
    console.error(`bench: ${selected}\n\n${USAGE}`);
    return 2;
  }
  const root = repoRoot();
  if (relaunching) return relaunch(root, argv);
  const launcher = process.env[LAUNCHED] ?? '';
  // The malloc settings took effect when this process started; the servers and agents it
  // starts get only what their own launch asks for.
  for (const name of Object.keys(shippedLaunch(root).env)) delete process.env[name];
  delete process.env[LAUNCHED];
  // What the agent sets at start (src/main.ts), for the components measured in this process:
  // mqtt-packet writes numbers without its 7 MiB cache.
  useUncachedPacketNumbers();
  const machine = { ...machineInfo(), launcher };
  const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ');
  const ctx = { root, log: (message: string) => console.error(message) };

  const fresh = new Map<string, string>();
  const failed: string[] = [];
  for (const bench of selected) {
    console.error(`bench: ${bench.name}`);
    let figures: Figure[];
    try {
      figures = await bench.run(ctx);
      const load = loadNow();
      figures = figures.map((f) => (f.load === undefined ? { ...f, load } : f));
    } catch (err) {
      failed.push(bench.name);
      console.error(
        `bench: ${bench.name} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      continue;
    }
    printFigures(bench.name, figures);
    fresh.set(bench.name, renderSection({ bench, figures, date: new Date(), machine, command }));
  }

  const file = join(root, 'BENCHMARKS.md');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const report = renderReport({
    existing,
    registered: benchmarks,
    fresh,
    machine,
    date: new Date(),
    command,
  });
  // An interrupted run never leaves a half-written report.
  writeFileAtomicSync(file, report);
  console.error(`\nbench: wrote ${file} (${fresh.size} section(s) updated)`);
  if (failed.length > 0) {
    console.error(`bench: failed: ${failed.join(', ')}`);
    return 1;
  }
  return 0;
}

// Interrupted (Ctrl-C, SIGTERM): exit through process.exit so the 'exit' hook of the test
// helpers kills the servers and agents this run started, instead of leaving them running.
// (Not in the process that only relaunches: its child gets the terminal's Ctrl-C itself.)
if (!relaunching) {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}, stopping what this run started`);
      process.exit(code);
    });
  }
}

process.exitCode = await main(process.argv.slice(2));
