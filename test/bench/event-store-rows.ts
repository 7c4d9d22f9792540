import { SEVERITIES, severityRank, type NewEvent } from '../../src/core/events.js';
import { payloadBytes } from '../../src/store/event-store.js';
import { ulidGenerator } from '../../src/store/ulid.js';

/**
 * The events the event-store-append bench appends, and the rows the store writes for them:
 * shared by the bench (the store side) and its bare baseline (its own process), so both
 * write the same rows.
 */

export const BENCH_NODE = 'bench-node';

export function benchEvents(n: number): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: i % 3 === 0 ? 'container_down' : 'disk_pressure',
    severity: SEVERITIES[i % SEVERITIES.length]!,
    subject: `local/container-${i % 40}`,
    data: { exit_code: 137, restarts: i % 7, image: 'eclipse-mosquitto:2.0.18', i },
  }));
}

/** The rows the store writes for `evs` (seq from 1), ready to bind: the bare side does no other work. */
export function benchRows(evs: readonly NewEvent[]): unknown[][] {
  const nextId = ulidGenerator();
  const ts = Date.now();
  const iso = new Date(ts).toISOString();
  return evs.map((e, i) => {
    const data = JSON.stringify(e.data);
    const id = nextId(ts);
    const fields = {
      id,
      ts: iso,
      node: BENCH_NODE,
      type: e.type,
      severity: e.severity,
      subject: e.subject,
    };
    const size = payloadBytes(fields, data);
    return [i + 1, id, ts, BENCH_NODE, e.type, severityRank(e.severity), e.subject, data, size];
  });
}
