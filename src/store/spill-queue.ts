import { Buffer } from 'node:buffer';
import { SEVERITIES, severityRank, type NewEvent, type Severity } from '../core/events.js';
import type { DropSummary } from './overflow.js';

/** The spill's bounds (`store.spill`). */
export interface SpillLimits {
  maxEvents: number;
  maxBytes: number;
}

/** An event held in memory, numbered in the order it was recorded. */
export interface HeldEvent {
  readonly order: number;
  readonly event: NewEvent;
  readonly bytes: number;
}

/**
 * The spill's policy as a data structure, with no I/O and no clock: events held per
 * severity, bounded by count and bytes. Over a bound, the oldest event of the lowest
 * severity goes first — never a critical while a lower one is held, as the store's own
 * overflow policy (overflow.ts) — and what goes is counted, by severity and type, for the
 * one `events_dropped` written with the rest.
 */
export class SpillQueue {
  readonly #limits: SpillLimits;
  /** One queue per severity rank, each in recording order. */
  readonly #bySeverity: HeldEvent[][] = SEVERITIES.map(() => []);
  #count = 0;
  #bytes = 0;
  readonly #dropped = new DropTally();

  constructor(limits: SpillLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Holds the event; returns how many held events were dropped to stay within the bounds. */
  push(h: HeldEvent): number {
    const queue = this.#bySeverity[severityRank(h.event.severity)] ?? this.#bySeverity[0]!;
    // Re-held after a failed write, an event may be older than those held since.
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.order > h.order) at--;
    queue.splice(at, 0, h);
    this.#count++;
    this.#bytes += h.bytes;
    let dropped = 0;
    while (this.#count > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes) {
      const lowest = this.#bySeverity.find((q) => q.length > 0)!;
      const gone = lowest.shift()!;
      this.#count--;
      this.#bytes -= gone.bytes;
      this.#dropped.add(gone);
      dropped++;
    }
    return dropped;
  }

  /** Takes every held event, in the order they were recorded. */
  takeAll(): HeldEvent[] {
    const all = this.#bySeverity.flatMap((q) => q.splice(0));
    this.#count = 0;
    this.#bytes = 0;
    return all.sort((a, b) => a.order - b.order);
  }

  /** What was dropped since the last `clearDropped`, or undefined when nothing was. */
  dropped(): DropSummary | undefined {
    return this.#dropped.summary();
  }

  clearDropped(): void {
    this.#dropped.clear();
  }
}

/** The size an event counts against `max_bytes`: its JSON, as near as memory goes. */
export function heldBytes(e: NewEvent): number {
  return Buffer.byteLength(JSON.stringify(e));
}

/** Counts of dropped events by severity and type: bounded by those, not by the outage. */
class DropTally {
  #count = 0;
  #bytes = 0;
  readonly #bySeverity = new Map<Severity, number>();
  readonly #byType = new Map<string, number>();

  add(h: HeldEvent): void {
    this.#count++;
    this.#bytes += h.bytes;
    const { severity, type } = h.event;
    this.#bySeverity.set(severity, (this.#bySeverity.get(severity) ?? 0) + 1);
    this.#byType.set(type, (this.#byType.get(type) ?? 0) + 1);
  }

  summary(): DropSummary | undefined {
    if (this.#count === 0) return undefined;
    const by_severity: Partial<Record<Severity, number>> = {};
    for (const s of SEVERITIES) {
      const n = this.#bySeverity.get(s);
      if (n !== undefined) by_severity[s] = n;
    }
    const by_type: Record<string, number> = {};
    for (const t of [...this.#byType.keys()].sort()) by_type[t] = this.#byType.get(t)!;
    return { reason: 'spill', count: this.#count, bytes: this.#bytes, by_severity, by_type };
  }

  clear(): void {
    this.#count = 0;
    this.#bytes = 0;
    this.#bySeverity.clear();
    this.#byType.clear();
  }
}
