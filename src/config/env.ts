import type { ConfigProblem } from './errors.js';
import { formatPath } from './errors.js';

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree.
 * Done on parsed values, never on the raw text, so a value from the environment can
 * never change the YAML's structure. `$${` escapes a literal `${`.
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const escaped = value.split('$${');
    return escaped
      .map((part) =>
        part.replace(VAR, (_m, name: string, fallback: string | undefined) => {
          const v = env[name];
          if (v !== undefined && v !== '') return v;
          if (fallback !== undefined) return fallback;
          problems.push({
            path: formatPath(path),
            message: `environment variable ${name} is not set (write \${${name}:-default} for a fallback)`,
          });
          return '';
        }),
      )
      .join('${');
  }
  if (Array.isArray(value))
    return value.map((v, i) => substituteEnv(v, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // `key:` with everything below it commented out is YAML null: read it as "not set".
      if (v === null) continue;
      out[k] = substituteEnv(v, env, problems, [...path, k]);
    }
    return out;
  }
  return value;
}
