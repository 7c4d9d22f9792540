import { z } from 'zod';

/**
 * The event model (DESIGN.md "Topics": one JSON event per message with id, ts, node, type,
 * severity, subject, data). Events are produced by the state engine, made durable by the
 * event store and read by every sink through its own cursor.
 */

/** Severities, lowest first: the store's overflow policy drops from the front of this list. */
export const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const RANKS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(SEVERITIES.map((s, i) => [s, i])),
);

/** 0 for debug … 4 for critical: how the store orders severities; -1 for a non-severity. */
export function severityRank(s: Severity): number {
  return Object.hasOwn(RANKS, s) ? RANKS[s]! : -1;
}

/** The severity at `rank`; throws on a rank outside 0…4 (a damaged row, never user input). */
export function severityAt(rank: number): Severity {
  const s = SEVERITIES[rank];
  if (s === undefined) throw new RangeError(`no severity with rank ${rank}`);
  return s;
}

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && Object.hasOwn(RANKS, value);
}

/** The normalised event names of DESIGN.md, plus the store's own. */
export const EVENT_TYPES = [
  'container_down',
  'container_recovered',
  'container_unhealthy',
  'disk_pressure',
  'disk_recovered',
  'watchdog_unhealthy',
  'watchdog_recovered',
  // Local checks down past max_unhealthy: the watchdog stops petting, a reset is coming.
  'watchdog_reset_pending',
  'uplink_lost',
  'uplink_restored',
  'backup_succeeded',
  'backup_failed',
  'backup_late',
  'host_unreachable',
  'host_reachable',
  'remediation_pending',
  'remediation_started',
  'remediation_completed',
  'remediation_failed',
  'container_flapping',
  'container_settled',
  'ha_websocket_dead',
  'ha_integration_failed',
  // The embedded broker refused a connection (one taking the agent's client id).
  'mqtt_client_refused',
  // The embedded broker disconnected a client that did not read (broker.client_queue).
  'mqtt_client_dropped',
  // The store's own: what its overflow policy dropped, and a corrupt database set aside.
  'events_dropped',
  'event_store_reset',
] as const;
export type KnownEventType = (typeof EVENT_TYPES)[number];
/** A known name, or any other snake_case name: the list grows with the collectors. */
export type EventType = KnownEventType | (string & {});

/**
 * The InfluxDB history's state samples (issue 19): stored like every event, so they wait on
 * disk through an outage of InfluxDB, but meant for the history alone.
 */
export const SAMPLE_EVENT_TYPE = 'sample';

/**
 * Whether events of this type are for the history sinks only (InfluxDB): kept in the
 * store, but not published on the event topic, written to the journal or sent up the
 * uplink, where a sample every minute would drown the events people read.
 */
export function isHistoryOnly(type: string): boolean {
  return type === SAMPLE_EVENT_TYPE;
}

/** Event payloads are JSON objects. */
export type EventData = Record<string, unknown>;

/** What a producer hands the store. */
export interface NewEvent {
  type: EventType;
  severity: Severity;
  /** What the event is about, e.g. `local/mosquitto` or `nas:/srv`. */
  subject: string;
  /**
   * Handed over to the store with the event: the store keeps this object (it becomes the
   * stored event's `data` that append listeners see) rather than a copy, so a producer
   * builds a fresh one per event and does not change it afterwards.
   */
  data?: EventData;
  /** When it happened; defaults to the store clock's now. Epoch ms, Date or ISO 8601. */
  ts?: number | Date | string;
}

/**
 * What every alert carries in its `data`, beside its own fields (issue #14): a `title` and a
 * `message` in plain words ("nas/radarr has been down for 6 min: exited (137), 4 restarts
 * in 6 min"), and `incident`, the outage it belongs to. Defined here once: the state
 * machines fill them, the log prints the message, Home Assistant's Alerts entity shows them.
 */
export interface AlertText {
  readonly title: string;
  readonly message: string;
}

/**
 * One outage of one subject (a container, a host, the watchdog), as every event of it
 * carries it in `data.incident`: opened by its first alert, closed by its recovery.
 */
export interface IncidentRef {
  /** Stable for the whole outage, across restarts of the agent. */
  readonly id: string;
  /** ISO 8601: when its first alert was raised. */
  readonly opened_at: string;
  /** `closed` on the event that ends it. */
  readonly status: 'open' | 'closed';
  /** Alerts raised in it so far (the first one, escalations, re-alerts). */
  readonly alerts: number;
  /** How long it had been open at this event, in whole seconds. */
  readonly open_s: number;
}

/** `data` with an alert's title, message and (when it belongs to one) incident added. */
export function alertData(data: EventData, text: AlertText, incident?: IncidentRef): EventData {
  return {
    ...data,
    title: text.title,
    message: text.message,
    ...(incident ? { incident } : {}),
  };
}

/** An event as the store keeps it and sinks publish it. */
export interface StoredEvent {
  /** Store-local, strictly increasing: the cursor position. Not part of the wire format. */
  seq: number;
  /** Unique and sortable (ULID): the downstream dedup key. */
  id: string;
  /** ISO 8601 with Z. */
  ts: string;
  node: string;
  type: EventType;
  severity: Severity;
  subject: string;
  data: EventData;
}

/** The wire form published on `<base>/<node>/events` (DESIGN.md): a StoredEvent minus seq. */
export type WireEvent = Omit<StoredEvent, 'seq'>;

export function toWireEvent(e: StoredEvent): WireEvent {
  return {
    id: e.id,
    ts: e.ts,
    node: e.node,
    type: e.type,
    severity: e.severity,
    subject: e.subject,
    data: e.data,
  };
}

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Validates an event read back from disk, so a damaged row is named rather than published. */
export const storedEventSchema = z.strictObject({
  seq: z.number().int().positive(),
  id: z.string().regex(ULID_RE, { error: 'expected a 26-character ULID' }),
  ts: z.iso.datetime({ error: 'expected an ISO 8601 timestamp with Z' }),
  node: z.string().min(1),
  type: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'expected a snake_case event type' }),
  severity: z.enum(SEVERITIES),
  subject: z.string(),
  data: z.record(z.string(), z.unknown()),
}) satisfies z.ZodType<StoredEvent>;
