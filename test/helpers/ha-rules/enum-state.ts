/**
 * The state of an enum sensor, checked rather than trusted. HA's MQTT sensor drops any
 * rendered value outside `options` (it logs "Ignoring invalid option" and keeps the last
 * state), so outpost renders every enum state through one guarded template shape
 * (discovery/entity-builder.ts, enumTemplate). This reads that shape back and evaluates it
 * as Jinja would: a template it does not recognise cannot be shown to stay in its options.
 */

/** What a guarded enum template reads, allows and falls back to (null: HA's unknown). */
export interface EnumGuard {
  readonly field: string;
  readonly options: readonly string[];
  readonly fallback: string | null;
}

const GUARDED =
  /^\{% set v = value_json\.get\(("(?:[^"\\]|\\.)*")\) %\}\{\{ None if v is none else \(v if v in (\[[^\]]*\]) else (None|"(?:[^"\\]|\\.)*")\) \}\}$/;

/** The guard of a template in the enumTemplate shape, or undefined for any other template. */
export function parseEnumGuard(template: unknown): EnumGuard | undefined {
  if (typeof template !== 'string') return undefined;
  const m = GUARDED.exec(template);
  if (!m) return undefined;
  try {
    const field = JSON.parse(m[1]!) as unknown;
    const options = JSON.parse(m[2]!) as unknown;
    const fallback = m[3] === 'None' ? null : (JSON.parse(m[3]!) as unknown);
    if (typeof field !== 'string' || typeof (fallback ?? '') !== 'string') return undefined;
    if (!Array.isArray(options) || !options.every((o) => typeof o === 'string')) return undefined;
    return { field, options, fallback: fallback as string | null };
  } catch {
    return undefined;
  }
}

/**
 * The state HA shows for one retained payload: the rendered value, or null for unknown
 * (the template rendered `None`). Throws when the template is not a guarded one.
 */
export function renderEnumState(template: unknown, payload: string): string | null {
  const guard = parseEnumGuard(template);
  if (!guard) throw new Error(`not a guarded enum template: ${String(template)}`);
  const json = JSON.parse(payload) as unknown;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`value_json.get fails on ${payload}: HA logs a template error`);
  }
  const v = (json as Record<string, unknown>)[guard.field];
  if (v === undefined || v === null) return null;
  return typeof v === 'string' && guard.options.includes(v) ? v : guard.fallback;
}
