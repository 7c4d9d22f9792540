import type { z } from 'zod';
import { keysAt } from './introspect.js';

/** One configuration problem: where, what was there, what was expected. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** `['hosts', 1, 'ssh', 'port']` → `hosts[1].ssh.port`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** A value as it appears in an error: short, quoted like YAML would show it. */
export function formatValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? typeof v;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return 'a mapping';
}

const KIND: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

/** Zod's generic messages rephrased as "expected …"; messages set in the schema win. */
export const expectedMessage: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${KIND[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return iss.origin === 'string'
        ? `expected at least ${String(iss.minimum)} character(s)`
        : iss.origin === 'array'
          ? `expected at least ${String(iss.minimum)} item(s)`
          : `expected a value >= ${String(iss.minimum)}`;
    case 'too_big':
      return iss.origin === 'string'
        ? `expected at most ${String(iss.maximum)} character(s)`
        : iss.origin === 'array'
          ? `expected at most ${String(iss.maximum)} item(s)`
          : `expected a value <= ${String(iss.maximum)}`;
    default:
      return undefined;
  }
};

/** Every zod issue as one problem line naming the path, the value and what was expected. */
export function problemsFromZod(error: z.ZodError, schema?: z.core.$ZodType): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const iss of error.issues) {
    if (iss.code === 'unrecognized_keys') {
      const known = schema ? keysAt(schema, iss.path)?.join(', ') : undefined;
      for (const key of iss.keys) {
        out.push({
          path: formatPath([...iss.path, key]),
          message: `unknown key${known ? `; expected one of: ${known}` : ''}`,
        });
      }
      continue;
    }
    const input = (iss as { input?: unknown }).input;
    out.push({ path: formatPath(iss.path), message: `${iss.message}, got ${formatValue(input)}` });
  }
  return out;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}
