import { loadavg } from 'node:os';

/**
 * The benchmark contract: a benchmark is `{ name, description, run(ctx) }` and returns
 * figures; `test/bench/bench.ts` runs them and writes BENCHMARKS.md. Plus the few statistics
 * helpers every benchmark needs (medians, not means: one slow run on a shared 2-core
 * machine should not move the headline figure).
 */

/** One measured value, as one row of a benchmark's table. */
export interface Figure {
  label: string;
  /** A number (formatted by the report) or a verdict such as "pass". */
  value: number | string;
  unit: string;
  note?: string;
  /**
   * The 1-minute load average while the figure was measured (`loadNow()`). The runner fills
   * it in, at the end of the benchmark, for figures that do not set it.
   */
  load?: number;
}

/** What the runner hands every benchmark. */
export interface BenchContext {
  /** The repository root (where package.json and dist/ are). */
  root: string;
  /** Progress output; goes to stderr so stdout stays the result tables. */
  log(message: string): void;
}

export interface Benchmark {
  /** Unique, kebab-case; the CLI filter and the BENCHMARKS.md section id. */
  name: string;
  /** One line: what is measured and how. */
  description: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

/** The median of a non-empty sample (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    runs: values.length,
  };
}

/** The 1-minute load average now: printed with every figure (a busy machine moves them). */
export function loadNow(): number {
  return loadavg()[0]!;
}

/** "median 12.3 (min 11.0, max 14.1, 5 runs)": the spread that goes with a median. */
export function spread(s: Summary, digits = 1): string {
  const f = (v: number) => v.toFixed(digits);
  return `median ${f(s.median)} (min ${f(s.min)}, max ${f(s.max)}, ${s.runs} runs)`;
}

/** `a / b`, for side-by-side comparisons ("agent / bare node"). */
export function ratio(a: number, b: number): number {
  if (b === 0) throw new Error('ratio with a zero denominator');
  return a / b;
}

/** Runs `once` `runs` times in sequence (never in parallel: they would skew each other). */
export async function repeat<T>(runs: number, once: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await once(i));
  return out;
}
