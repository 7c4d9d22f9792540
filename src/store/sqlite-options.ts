import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { RandomFill } from './ulid.js';

const MiB = 2 ** 20;
const DAY = 86_400_000;

export interface SqliteEventStoreOptions {
  /** The agent's data dir; the database is `<dataDir>/events.db`. */
  dataDir: string;
  /** The node id stamped on every event. */
  node: string;
  /**
   * Open an existing database for reading only (`outpost events` beside a running agent):
   * nothing is created, migrated, moved aside or maintained, and appends and acks are refused.
   */
  readonly?: boolean;
  /** Size bound on payload bytes (default 512 MiB, DESIGN.md `store.max_bytes`). */
  maxBytes?: number;
  /** Age bound: older events are dropped whatever their severity (default 30 days). */
  maxAge?: number;
  /** Events every registered sink acked are deleted this long after their ts (default 7 days). */
  retention?: number;
  /** Largest single event (default 1 MiB, at most maxBytes / 16). */
  maxEventBytes?: number;
  /** How often retention and the age bound run (default 60 s). */
  maintenanceEvery?: number;
  /** Most events per commit (default 10,000). */
  maxBatch?: number;
  clock?: Clock;
  log?: Logger;
  randomFill?: RandomFill;
}

export interface Limits {
  maxBytes: number;
  /** Where an overflow drops down to. */
  targetBytes: number;
  maxEventBytes: number;
  maxAge: number;
  retention: number;
  maintenanceEvery: number;
  maxBatch: number;
}

/** The limits with their defaults; throws a RangeError naming an option that makes no sense. */
export function resolveLimits(o: SqliteEventStoreOptions): Limits {
  const maxBytes = positive('maxBytes', o.maxBytes ?? 512 * MiB);
  return {
    maxBytes,
    // Hysteresis: a full store frees 10 % (at most 4 MiB) at once, not one event per append,
    // so it writes one events_dropped per chunk and rarely pays for the overflow pass.
    targetBytes: maxBytes - Math.min(Math.floor(maxBytes / 10), 4 * MiB),
    maxEventBytes: positive(
      'maxEventBytes',
      o.maxEventBytes ?? Math.min(MiB, Math.floor(maxBytes / 16)),
    ),
    maxAge: positive('maxAge', o.maxAge ?? 30 * DAY),
    retention: positive('retention', o.retention ?? 7 * DAY),
    maintenanceEvery: positive('maintenanceEvery', o.maintenanceEvery ?? 60_000),
    maxBatch: positive('maxBatch', o.maxBatch ?? 10_000),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`event store option ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}
