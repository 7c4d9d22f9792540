import { matchableNames, type ContainerIdentity } from './identity.js';

/** Label that turns watching a container on or off, whatever the host's globs say. */
export const LABEL_MONITOR = 'outpost.monitor';
/** Label that makes a container critical (or not), whatever the host's `critical` says. */
export const LABEL_CRITICAL = 'outpost.critical';

/** A host's container rules from config (`hosts[].include`, `exclude`, `critical`). */
export interface SelectionRules {
  readonly include?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly critical?: readonly string[] | undefined;
}

export interface Selection {
  readonly monitored: boolean;
  readonly critical: boolean;
}

/** A glob (`*` any run of characters, `?` one) as an anchored, case-sensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  let body = '';
  for (const ch of glob) {
    if (ch === '*') body += '.*';
    else if (ch === '?') body += '.';
    else body += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}

/** `true`/`false` (also yes/no, 1/0, any case); anything else means "no opinion". */
export function labelFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'no' || v === '0') return false;
  return undefined;
}

/** Decides per container whether it is watched and whether it is critical. */
export class ContainerSelector {
  readonly #include: RegExp[] | undefined;
  readonly #exclude: RegExp[];
  readonly #critical: RegExp[];

  constructor(rules: SelectionRules) {
    this.#include = rules.include?.map(globToRegExp);
    this.#exclude = (rules.exclude ?? []).map(globToRegExp);
    this.#critical = (rules.critical ?? []).map(globToRegExp);
  }

  /**
   * Config first, then labels: a label is set by whoever deploys the container, who knows
   * it better than a glob in the agent's config does. `outpost.critical=true` also makes
   * an excluded container watched, since a critical container that is not watched would
   * never alert.
   */
  select(c: ContainerIdentity): Selection {
    const names = matchableNames(c);
    const matches = (patterns: readonly RegExp[]) =>
      patterns.some((re) => names.some((n) => re.test(n)));
    const byConfig =
      (this.#include === undefined || matches(this.#include)) && !matches(this.#exclude);
    const labelMonitor = labelFlag(c.labels?.[LABEL_MONITOR]);
    const labelCritical = labelFlag(c.labels?.[LABEL_CRITICAL]);
    const monitored = labelMonitor ?? (labelCritical === true || byConfig);
    const critical = monitored && (labelCritical ?? matches(this.#critical));
    return { monitored, critical };
  }
}
