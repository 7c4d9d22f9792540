import type { z } from 'zod';

/**
 * What a capability adds to the one config schema (docs/architecture.md "Capability modules"):
 * its own top-level section and, optionally, fields on every host (a host is named once,
 * and each capability hangs its per-host settings off it). Each capability's `config.ts`
 * exports one of these; `schema.ts` lists them.
 */
export interface CapabilityConfig<
  K extends string = string,
  S extends z.ZodType = z.ZodType,
  H extends z.ZodRawShape = z.ZodRawShape,
> {
  /** The top-level key of its section. */
  readonly key: K;
  /** The section's schema, with its own default or `.optional()`. */
  readonly section: S;
  /** Fields it adds to each entry of `hosts`. */
  readonly host?: H;
  /** Checks across its host fields (and the host's `ssh`), reported with paths under the host. */
  hostCheck?(host: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>): void;
  /** Checks of its section against the rest of the config (a job's host among `hosts`). */
  check?(config: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>): void;
}

/** `{ [key]: section }` for a list of capability configs, typed key by key. */
export type SectionsOf<T extends readonly CapabilityConfig[]> = {
  [C in T[number] as C['key']]: C['section'];
};

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  u: infer I,
) => void
  ? I
  : never;

/** Every capability's host fields, merged into one shape. */
export type HostFieldsOf<T extends readonly CapabilityConfig[]> = UnionToIntersection<
  HostOf<T[number]>
>;
type HostOf<C> = C extends { readonly host: infer H } ? H : Record<never, never>;

export function sectionsOf<const T extends readonly CapabilityConfig[]>(caps: T): SectionsOf<T> {
  return Object.fromEntries(caps.map((c) => [c.key, c.section])) as SectionsOf<T>;
}

export function hostFieldsOf<const T extends readonly CapabilityConfig[]>(
  caps: T,
): HostFieldsOf<T> {
  return Object.assign({}, ...caps.map((c) => c.host ?? {})) as HostFieldsOf<T>;
}
