import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type, arch } from 'node:os';
import type { Benchmark, Figure } from './framework.js';

/**
 * BENCHMARKS.md: a header (machine, date, command of the latest invocation) and one
 * section per benchmark between HTML comment markers. A filtered run replaces only the
 * sections of the benchmarks it ran; each section carries its own run line, so a kept
 * section still says when, where and how it was measured.
 */

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  os: string;
  /**
   * How node ran the benchmarks: the agent's launcher, in its words (malloc settings and
   * node flags). Not said when undefined.
   */
  launcher?: string;
}

/** A benchmark's result as it goes into the report. */
export interface SectionInput {
  bench: Pick<Benchmark, 'name' | 'description'>;
  figures: readonly Figure[];
  date: Date;
  machine: Machine;
  command: string;
}

const SECTION = /<!-- bench:([a-z0-9][a-z0-9-]*):begin -->[\s\S]*?<!-- bench:\1:end -->/g;

export function machineInfo(): Machine {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    os: `${osName()} (${type()} ${release()}, ${arch()})`,
  };
}

/** The CPU model from /proc/cpuinfo ("model name"; ARM kernels may only have "Hardware"). */
function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^(?:model name|Hardware|Model)\s*:\s*(.+)$/m.exec(info);
    if (m?.[1]) return m[1].trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown';
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    // no os-release: the kernel line alone
  }
  return type();
}

/** "2025-11-22 01:50 UTC": minutes are enough to tell runs apart. */
export function formatDate(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** Integers as they are; otherwise 3 significant digits, without exponent notation. */
export function formatValue(value: number | string): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${cell(f.label)} | ${cell(formatValue(f.value))} | ${cell(f.unit)} | ` +
      `${f.load === undefined ? '' : f.load.toFixed(2)} | ${cell(f.note ?? '')} |`,
  );
  return [
    '| figure | value | unit | load | note |',
    '| --- | ---: | --- | ---: | --- |',
    ...rows,
  ].join('\n');
}

/** "the agent's launcher", with its words when `detail`. */
function runAs(launcher: string | undefined, prefix: string, detail = false): string {
  if (launcher === undefined) return '';
  return `${prefix}the agent's launcher${detail ? `: \`${launcher}\`` : ''}`;
}

export function renderSection(s: SectionInput): string {
  return [
    `<!-- bench:${s.bench.name}:begin -->`,
    `## ${s.bench.name}`,
    '',
    s.bench.description,
    '',
    `Measured ${formatDate(s.date)} with Node ${s.machine.node}` +
      runAs(s.machine.launcher, ' under ') +
      ` on ${s.machine.cpu} (${s.machine.cores} cores): \`${s.command}\`.`,
    '',
    renderTable(s.figures),
    `<!-- bench:${s.bench.name}:end -->`,
  ].join('\n');
}

/** Every section of an existing report, by benchmark name, exactly as written. */
export function parseSections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of markdown.matchAll(SECTION)) out.set(m[1]!, m[0]);
  return out;
}

export interface ReportInput {
  /** The current BENCHMARKS.md, or '' when there is none. */
  existing: string;
  /** Every registered benchmark, in report order. */
  registered: readonly Pick<Benchmark, 'name'>[];
  /** Rendered sections of the benchmarks that ran now, by name. */
  fresh: ReadonlyMap<string, string>;
  machine: Machine;
  date: Date;
  command: string;
}

/**
 * The whole new BENCHMARKS.md. Sections appear in registry order: a fresh one when the
 * benchmark ran, else the old one kept verbatim, else nothing. Sections of benchmarks no
 * longer registered are dropped (there is nothing left that could refresh them).
 */
export function renderReport(r: ReportInput): string {
  const old = parseSections(r.existing);
  const sections: string[] = [];
  for (const { name } of r.registered) {
    const s = r.fresh.get(name) ?? old.get(name);
    if (s !== undefined) sections.push(s);
  }
  const m = r.machine;
  return [
    '# Benchmarks',
    '',
    '<!-- Written by test/bench/bench.ts: run `npm run bench` (or `npm run bench -- NAME…` for',
    'some). Each section below is replaced when its benchmark runs; edits inside are lost. -->',
    '',
    `Last run ${formatDate(r.date)}: \`${r.command}\`, on this machine:`,
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${cell(m.cpu)} |`,
    `| cores | ${m.cores} |`,
    `| memory | ${formatBytes(m.memoryBytes)} |`,
    `| Node | ${m.node} |`,
    `| OS | ${cell(m.os)} |`,
    ...(m.launcher === undefined ? [] : [`| node run as | ${cell(runAs(m.launcher, '', true))} |`]),
    '',
    'Figures are medians over several runs unless the label says otherwise; a kept section',
    'says when and where it was measured. "load" is the 1-minute load average while the',
    'figure was measured: on a 2-core machine anything above 2 means the figure waited for CPU.',
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}
