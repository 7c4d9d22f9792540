import { Buffer } from 'node:buffer';
import { SEVERITIES, type Severity, type StoredEvent } from '../../../src/core/events.js';

/**
 * A deliberately simple in-memory event store: arrays, sorts and filters, no SQL, no
 * pages. The model-based test runs the same commands against it and the real store and
 * compares everything observable. It takes ids and timestamps from the real store (they are
 * random and clock-driven) but decides seqs, drops, cursors and pruning on its own.
 */

export interface ModelBounds {
  maxBytes: number;
  /** Where an overflow drops down to (the store's hysteresis). */
  targetBytes: number;
  maxAge: number;
  retention: number;
}

/** The data of an events_dropped event, as the model expects it. */
export interface ModelDrop {
  reason: 'max_bytes' | 'max_age';
  count: number;
  bytes: number;
  by_severity: Partial<Record<Severity, number>>;
  by_type: Record<string, number>;
}

/** The size definition, written out independently of the store's `payloadBytes`. */
export function modelSize(e: StoredEvent): number {
  const fields = [e.id, e.ts, e.node, e.type, e.severity, e.subject, JSON.stringify(e.data)];
  return fields.reduce((n, f) => n + Buffer.byteLength(f, 'utf8'), 0);
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

export class EventStoreModel {
  events: StoredEvent[] = [];
  lastSeq = 0;
  /** Durable cursors of every sink ever registered. */
  cursors = new Map<string, number>();
  /** Sinks registered since the last (re)open. */
  registered = new Set<string>();
  droppedBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

  constructor(readonly bounds: ModelBounds) {}

  get bytes(): number {
    return this.events.reduce((n, e) => n + modelSize(e), 0);
  }

  /**
   * Takes a committed batch; returns what the overflow policy must have dropped (the caller
   * then hands over the events_dropped event the real store wrote, via `add`).
   */
  append(batch: readonly StoredEvent[]): ModelDrop | undefined {
    for (const e of batch) this.add(e);
    if (this.bytes <= this.bounds.maxBytes) return undefined;
    const order = [...this.events].sort(
      (a, b) => rank(a.severity) - rank(b.severity) || a.seq - b.seq,
    );
    const dropped: StoredEvent[] = [];
    let bytes = this.bytes;
    for (const e of order) {
      if (bytes <= this.bounds.targetBytes) break;
      dropped.push(e);
      bytes -= modelSize(e);
    }
    return this.#drop(dropped, 'max_bytes');
  }

  /** One event the store wrote; its seq must be the next one. */
  add(e: StoredEvent): void {
    if (e.seq !== this.lastSeq + 1) {
      throw new Error(`expected seq ${this.lastSeq + 1}, the store assigned ${e.seq}`);
    }
    this.lastSeq = e.seq;
    this.events.push(e);
  }

  registerSink(name: string, startAt: 'oldest' | 'now'): number {
    if (!this.cursors.has(name)) this.cursors.set(name, startAt === 'now' ? this.lastSeq : 0);
    this.registered.add(name);
    return this.cursors.get(name)!;
  }

  ack(name: string, seq: number): void {
    this.cursors.set(name, Math.max(seq, this.cursors.get(name)!));
  }

  readAfter(name: string, limit: number): StoredEvent[] {
    const c = this.cursors.get(name)!;
    return this.events.filter((e) => e.seq > c).slice(0, limit);
  }

  /** A new process: cursors stay, registrations do not. */
  restart(): void {
    this.registered.clear();
  }

  /** Retention (silent), then the age bound; returns what the age bound must have dropped. */
  maintain(now: number): ModelDrop | undefined {
    if (this.registered.size > 0) {
      const acked = Math.min(...[...this.registered].map((s) => this.cursors.get(s)!));
      const cutoff = now - this.bounds.retention;
      this.events = this.events.filter((e) => !(e.seq <= acked && Date.parse(e.ts) < cutoff));
    }
    const expired = this.events.filter((e) => Date.parse(e.ts) < now - this.bounds.maxAge);
    return this.#drop(expired, 'max_age');
  }

  snapshot(): EventStoreModel {
    const copy = new EventStoreModel(this.bounds);
    copy.events = [...this.events];
    copy.lastSeq = this.lastSeq;
    copy.cursors = new Map(this.cursors);
    copy.registered = new Set(this.registered);
    copy.droppedBySeverity = { ...this.droppedBySeverity };
    return copy;
  }

  restore(from: EventStoreModel): void {
    Object.assign(this, from.snapshot());
  }

  #drop(dropped: StoredEvent[], reason: ModelDrop['reason']): ModelDrop | undefined {
    if (dropped.length === 0) return undefined;
    const gone = new Set(dropped.map((e) => e.seq));
    this.events = this.events.filter((e) => !gone.has(e.seq));
    const by_severity: Partial<Record<Severity, number>> = {};
    const by_type: Record<string, number> = {};
    for (const e of dropped) {
      by_severity[e.severity] = (by_severity[e.severity] ?? 0) + 1;
      by_type[e.type] = (by_type[e.type] ?? 0) + 1;
      this.droppedBySeverity[e.severity] += 1;
    }
    const bytes = dropped.reduce((n, e) => n + modelSize(e), 0);
    return { reason, count: dropped.length, bytes, by_severity, by_type };
  }
}
