import type { RemediationConfig } from '../../config/schema.js';

/** One token bucket's shape: `rate` commands a second on average, `burst` at once. */
export interface BucketSettings {
  readonly rate: number;
  readonly burst: number;
}

/** How commands over MQTT are limited (`remediation.rate_limit`). */
export interface RateLimitSettings {
  /** Each client (a connection: login and client id) on its own; undefined: no limit. */
  readonly client: BucketSettings | undefined;
  /** All connections of one login together, and everything over an external broker. */
  readonly user: BucketSettings | undefined;
  /** A run of refusals ends after this long without one. */
  readonly quietMs: number;
  /** Buckets kept per level at most; the least recently used go first. */
  readonly maxClients: number;
}

/**
 * Buckets kept per level: a client that cycles client ids must not grow the map without
 * end. A thousand connections sending commands at the same moment is far beyond a homelab.
 */
export const MAX_CLIENTS = 1024;

/** `remediation.rate_limit` as the limiter's settings; a rate of 0 lifts its level. */
export function rateLimitSettings(c: RemediationConfig['rate_limit']): RateLimitSettings {
  const level = (b: { rate: number; burst: number }) => (b.rate > 0 ? { ...b } : undefined);
  return {
    client: level(c.client),
    user: level(c.user),
    quietMs: c.quiet,
    maxClients: MAX_CLIENTS,
  };
}

/** "30 at once and 60/min": a bucket as a person reads it. */
export function describeLimit(b: BucketSettings): string {
  return `${b.burst} at once and ${perTime(b.rate)}`;
}

function perTime(perSecond: number): string {
  const round = (n: number) => Math.round(n * 100) / 100;
  if (perSecond >= 1) return `${round(perSecond)}/s`;
  if (perSecond * 60 >= 1) return `${round(perSecond * 60)}/min`;
  return `${round(perSecond * 3600)}/h`;
}
