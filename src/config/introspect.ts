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
export function allKeyPaths(schema: AnySchema): string[] {
  return fields(schema).map((f) => f.path);
}

/**
 * Every key path whose field is, or wraps, a schema `match` accepts (e.g. the durations):
 * the field's schema as declared, defaults and all, and the one that matched.
 */
export function fieldsWhere(
  schema: AnySchema,
  match: (s: AnySchema) => boolean,
): { path: string; field: AnySchema; matched: AnySchema }[] {
  return fields(schema).flatMap((f) => {
    const matched = layers(f.field).find(match);
    return matched ? [{ ...f, matched }] : [];
  });
}

/** The schema and every schema it wraps, outermost first. */
function layers(s: AnySchema): AnySchema[] {
  const out = [s];
  for (;;) {
    const d = def(s);
    const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
    if (!inner) return out;
    out.push((s = inner));
  }
}

/** Every key path with its field's schema; a path two union options share comes once. */
function fields(schema: AnySchema, prefix = ''): { path: string; field: AnySchema }[] {
  const s = unwrap(schema);
  const d = def(s);
  if (d.type === 'array' && d.element) return fields(d.element, `${prefix}[]`);
  if (d.type === 'union' && d.options) {
    const byPath = new Map(d.options.flatMap((o) => fields(o, prefix)).map((f) => [f.path, f]));
    return [...byPath.values()];
  }
  if (d.type !== 'object' || !d.shape) return [];
  const out: { path: string; field: AnySchema }[] = [];
  for (const [k, child] of Object.entries(d.shape)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.push({ path: p, field: child }, ...fields(child, p));
  }
  return out;
}
