import { globToRegExp } from './selection.js';

/** A mount's level: each is raised at its threshold and clears `hysteresis` points below. */
export const DISK_LEVELS = ['ok', 'warn', 'critical'] as const;
export type DiskLevel = (typeof DISK_LEVELS)[number];

export interface Thresholds {
  readonly warn: number;
  readonly critical: number;
  readonly hysteresis: number;
}

/**
 * The level at `usedPct` for a mount that was at `prev`. A level is entered at its
 * threshold and left only once usage is `hysteresis` points below it, so a disk hovering
 * at 85 % does not alert on every poll.
 */
export function nextLevel(prev: DiskLevel, usedPct: number, t: Thresholds): DiskLevel {
  if (usedPct >= t.critical) return 'critical';
  if (prev === 'critical' && usedPct > t.critical - t.hysteresis) return 'critical';
  if (usedPct >= t.warn) return 'warn';
  if (prev !== 'ok' && usedPct > t.warn - t.hysteresis) return 'warn';
  return 'ok';
}

interface Override extends Partial<Thresholds> {
  readonly path: string;
}

/** The thresholds of a mount: the first `mounts` entry whose path glob matches, else the section's. */
export function thresholdsFor(
  mount: string,
  section: Thresholds & { readonly mounts: readonly Override[] },
): Thresholds {
  const o = section.mounts.find((m) => globToRegExp(m.path).test(mount));
  return {
    warn: o?.warn ?? section.warn,
    critical: o?.critical ?? section.critical,
    hysteresis: o?.hysteresis ?? section.hysteresis,
  };
}
