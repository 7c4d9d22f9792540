import { SEVERITIES, type NewEvent, type Severity } from '../core/events.js';

/**
 * The store's overflow policy as pure functions (issue: "drop the oldest events of the
 * lowest severity first — never a critical event while a lower one remains — and record
 * what was dropped as an event").
 */

/** What the policy needs to know about one stored event. */
export interface DropCandidate {
  seq: number;
  severity: Severity;
  type: string;
  bytes: number;
}

export interface OverflowInput {
  /** Payload bytes stored now, including the batch just written. */
  bytes: number;
  maxBytes: number;
  /**
   * Once over `maxBytes`, drop down to this (≤ maxBytes). The gap is hysteresis: a full
   * store drops in chunks, one events_dropped per chunk, not one per append.
   */
  targetBytes: number;
  /** The events of one severity, oldest first; read lazily so a big store pages them in. */
  oldest(severity: Severity): Iterable<DropCandidate>;
}

/** The events to drop, in drop order; empty while the store is within its bound. */
export function planOverflow(input: OverflowInput): DropCandidate[] {
  if (input.bytes <= input.maxBytes) return [];
  const target = Math.min(input.targetBytes, input.maxBytes);
  const drop: DropCandidate[] = [];
  let remaining = input.bytes;
  for (const severity of SEVERITIES) {
    for (const c of input.oldest(severity)) {
      if (remaining <= target) return drop;
      drop.push(c);
      remaining -= c.bytes;
    }
  }
  return drop;
}

/** The store's two bounds, and the in-memory spill that holds events while it cannot write. */
export type DropReason = 'max_bytes' | 'max_age' | 'spill';

/** The data of an events_dropped event (a type, not an interface: it must fit EventData). */
export type DropSummary = {
  reason: DropReason;
  count: number;
  bytes: number;
  /** Non-zero counts only, lowest severity first. */
  by_severity: Partial<Record<Severity, number>>;
  /** Counts per event type, keys sorted. */
  by_type: Record<string, number>;
};

export function summarizeDrops(
  reason: DropReason,
  dropped: Iterable<Pick<DropCandidate, 'severity' | 'type' | 'bytes'>>,
): DropSummary {
  const bySeverity = new Map<Severity, number>();
  const byType = new Map<string, number>();
  let count = 0;
  let bytes = 0;
  for (const d of dropped) {
    count++;
    bytes += d.bytes;
    bySeverity.set(d.severity, (bySeverity.get(d.severity) ?? 0) + 1);
    byType.set(d.type, (byType.get(d.type) ?? 0) + 1);
  }
  const by_severity: Partial<Record<Severity, number>> = {};
  for (const s of SEVERITIES) {
    const n = bySeverity.get(s);
    if (n !== undefined) by_severity[s] = n;
  }
  const by_type: Record<string, number> = {};
  for (const t of [...byType.keys()].sort()) by_type[t] = byType.get(t)!;
  return { reason, count, bytes, by_severity, by_type };
}

/** The event that records a drop: a warning, so it is itself dropped before anything graver. */
export function droppedEvent(summary: DropSummary): NewEvent & { data: DropSummary } {
  return { type: 'events_dropped', severity: 'warning', subject: 'event_store', data: summary };
}
