import { z } from 'zod';
import { globMatches } from '../../src/commands/policy/rules.js';
import type { Finding } from './health-events.js';

/**
 * The checks our users run by hand on Home Assistant (issue 18, point 2), as pure
 * functions of what its websocket API answered: `config_entries/get`, `get_states`,
 * `config/entity_registry/list`. An entry of the wrong shape is skipped and counted, not
 * believed: HA's answers are input from outside.
 */

const configEntry = z.object({
  entry_id: z.string(),
  domain: z.string(),
  title: z.string(),
  state: z.string(),
  reason: z.string().nullish(),
});
const entityState = z.object({
  entity_id: z.string().regex(/^[a-z0-9_]+\.[a-z0-9_]+$/),
  state: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  last_changed: z.string().optional(),
});
const registryEntry = z.object({ entity_id: z.string(), platform: z.string() });

export type ConfigEntry = z.output<typeof configEntry>;
export type EntityState = z.output<typeof entityState>;
export type RegistryEntry = z.output<typeof registryEntry>;

/** The items of `list` that parse, and how many did not. */
export function parseList<T>(
  schema: z.ZodType<T>,
  list: unknown,
): { items: T[]; malformed: number } {
  if (!Array.isArray(list)) return { items: [], malformed: 1 };
  const items: T[] = [];
  let malformed = 0;
  for (const x of list) {
    const r = schema.safeParse(x);
    if (r.success) items.push(r.data);
    else malformed++;
  }
  return { items, malformed };
}

export const parseConfigEntries = (v: unknown) => parseList(configEntry, v);
export const parseStates = (v: unknown) => parseList(entityState, v);
export const parseRegistry = (v: unknown) => parseList(registryEntry, v);

/** Config entry states that mean "failed to load" (homeassistant/config_entries.py). */
const FAILED = new Set(['setup_error', 'setup_retry', 'migration_error']);

/** Integrations that failed to load, named: "Zigbee Home Automation (zha, setup_retry)". */
export function failedIntegrations(entries: readonly ConfigEntry[], maxListed: number): Finding {
  const failed = entries.filter((e) => FAILED.has(e.state));
  const names = failed.map(
    (e) => `${e.title} (${e.domain}, ${e.state}${e.reason ? `: ${e.reason}` : ''})`,
  );
  return { count: failed.length, names: names.slice(0, maxListed) };
}

export interface UnavailableRules {
  readonly afterMs: number;
  readonly domains: readonly string[];
  readonly integrations: readonly string[];
  readonly entities: readonly string[];
  readonly maxListed: number;
}

/**
 * Entities unavailable for longer than `afterMs`, among those the rules select (by domain,
 * by integration through the entity registry, or by entity id glob; all when none is
 * given), counted and listed.
 */
export function unavailableEntities(
  states: readonly EntityState[],
  registry: readonly RegistryEntry[],
  rules: UnavailableRules,
  now: number,
): Finding {
  const platform = new Map(registry.map((r) => [r.entity_id, r.platform]));
  const any = rules.domains.length + rules.integrations.length + rules.entities.length === 0;
  const selected = (s: EntityState) => {
    if (any) return true;
    const domain = s.entity_id.split('.')[0]!;
    const integration = platform.get(s.entity_id);
    return (
      rules.domains.some((g) => globMatches(g, domain)) ||
      (integration !== undefined && rules.integrations.some((g) => globMatches(g, integration))) ||
      rules.entities.some((g) => globMatches(g, s.entity_id))
    );
  };
  const long = states.filter((s) => {
    if (s.state !== 'unavailable' || !selected(s)) return false;
    const since = s.last_changed ? Date.parse(s.last_changed) : NaN;
    // No time to go by: HA always sends last_changed, so a state without one counts at once.
    return Number.isNaN(since) || now - since >= rules.afterMs;
  });
  const names = long.map((s) => s.entity_id).sort();
  return {
    count: names.length,
    names: names.slice(0, rules.maxListed),
    data: { after_ms: rules.afterMs },
  };
}

/** `update.*` entities that are on: "Home Assistant Core (2026.11.1 → 2026.12.0)". */
export function updatesAvailable(states: readonly EntityState[], maxListed: number): Finding {
  const on = states.filter((s) => s.entity_id.startsWith('update.') && s.state === 'on');
  const names = on.map((s) => {
    const a = s.attributes ?? {};
    const name = typeof a.friendly_name === 'string' ? a.friendly_name : s.entity_id;
    const from = a.installed_version;
    const to = a.latest_version;
    return typeof from === 'string' && typeof to === 'string' ? `${name} (${from} → ${to})` : name;
  });
  return { count: on.length, names: names.slice(0, maxListed) };
}
