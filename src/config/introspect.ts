import type { z } from 'zod';

type AnySchema = z.core.$ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
  options?: AnySchema[];
}

function def(s: AnySchema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** Looks through wrappers (optional, default, transform, …) to the schema that holds data. */
function unwrap(s: AnySchema): AnySchema {
  for (;;) {
    const d = def(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

/** The object keys the schema allows at a data path (array indexes skip into elements). */
export function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] | undefined {
  let s = unwrap(schema);
  for (const p of path) {
    const d = def(s);
    if (typeof p === 'number' && d.type === 'array' && d.element) s = unwrap(d.element);
    else if (d.type === 'object' && d.shape && typeof p === 'string' && d.shape[p])
      s = unwrap(d.shape[p]);
    else return undefined;
  }
  const d = def(s);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : undefined;
}

/** Every key path the schema defines, e.g. `broker.tls.cert_file`, `hosts[].ssh.port`. */
export function allKeyPaths(schema: AnySchema, prefix = ''): string[] {
  const s = unwrap(schema);
  const d = def(s);
  if (d.type === 'array' && d.element) return allKeyPaths(d.element, `${prefix}[]`);
  if (d.type === 'union' && d.options)
    return [...new Set(d.options.flatMap((o) => allKeyPaths(o, prefix)))];
  if (d.type !== 'object' || !d.shape) return [];
  const out: string[] = [];
  for (const [k, child] of Object.entries(d.shape)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.push(p, ...allKeyPaths(child, p));
  }
  return out;
}
