import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SEVERITIES, severityRank, type IncidentRef, type Severity } from '../core/events.js';
import type { StateFile } from '../core/state-file.js';

/**
 * Incidents (issue #14): one per outage of one subject — a container, a host, the
 * watchdog, later a disk or a backup. The first alert about a subject opens it, its
 * recovery closes it, and every event in between carries its id (`data.incident`). A
 * state machine raises *signals* on a subject (the container tracker's `alert`,
 * remediation's `flapping`): the incident's severity is the highest open one.
 *
 * Only open incidents are kept, and they survive a restart of the agent (`StateFile`,
 * written on every change): a restarted agent knows what it already announced, so it
 * neither raises an open outage again nor forgets when it last re-alerted.
 */

export interface Incident {
  readonly id: string;
  /** What it is about, as the events say it: `nas/radarr`, `nas`, `watchdog`. */
  readonly subject: string;
  /** The kind of subject (`container`, `host`, `watchdog`, `home_assistant`): who may restore it. */
  readonly kind: string;
  /** Another name the subject goes by: a container's policy target `<host>/<name>`. */
  readonly target?: string;
  /** Open signals and their severities. */
  readonly signals: Readonly<Record<string, Severity>>;
  /** The highest severity among `signals`. */
  readonly severity: Severity;
  /** When the problem began (before the first alert: a container is down `down_after` first). */
  readonly since: number;
  readonly openedAt: number;
  readonly lastAlertAt: number;
  /** Alerts raised in it: the first one, escalations, re-alerts. */
  readonly alerts: number;
  /** What its owner needs to describe it after a restart (a restart count at its start). */
  readonly context?: Readonly<Record<string, string | number>>;
}

export interface RaiseOptions {
  readonly kind: string;
  /** When the problem began; default `at`. */
  readonly since?: number;
  readonly target?: string;
  readonly context?: Readonly<Record<string, string | number>>;
}

const severity = z.enum(SEVERITIES);
const incidentSchema = z.strictObject({
  id: z.string().min(1),
  subject: z.string().min(1),
  kind: z.string().min(1),
  target: z.string().optional(),
  signals: z.record(z.string(), severity),
  severity,
  since: z.number(),
  openedAt: z.number(),
  lastAlertAt: z.number(),
  alerts: z.number().int().nonnegative(),
  context: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
}) satisfies z.ZodType<Incident>;

/** The file's content: `<data_dir>/incidents.json`. */
export const incidentsFileSchema = z.strictObject({
  version: z.literal(1),
  open: z.array(incidentSchema),
});
export type IncidentsFile = z.output<typeof incidentsFileSchema>;
export const INCIDENTS_FILE = 'incidents.json';

export interface IncidentsOptions {
  /** A new, unique, stable id for an incident opened at `now`: a ULID in the agent (a UUID by default). */
  newId?(now: number): string;
  /** Where open incidents are kept across restarts; in memory only without one. */
  file?: StateFile<IncidentsFile>;
}

/**
 * The open incidents, by kind and subject: a host whose id is `watchdog` and the watchdog
 * itself are two subjects, never one incident.
 */
export class Incidents {
  readonly #opts: IncidentsOptions;
  readonly #open = new Map<string, Incident>();

  constructor(opts: IncidentsOptions = {}) {
    this.#opts = opts;
    for (const i of opts.file?.load()?.open ?? []) this.#open.set(keyOf(i.kind, i.subject), i);
  }

  /**
   * An alert about `subject` was raised at `at` with `signal` at `severity`: opens its
   * incident, or counts one more alert of the open one (its severity follows the signals).
   */
  raise(
    subject: string,
    signal: string,
    sev: Severity,
    at: number,
    opts: RaiseOptions,
  ): { incident: Incident; opened: boolean } {
    const open = this.#open.get(keyOf(opts.kind, subject));
    const signals = { ...open?.signals, [signal]: sev };
    const incident: Incident = open
      ? {
          ...open,
          signals,
          severity: highest(signals),
          // A later signal may know the problem began earlier (down before it flapped).
          since: Math.min(open.since, opts.since ?? open.since),
          lastAlertAt: at,
          alerts: open.alerts + 1,
          ...(opts.target !== undefined ? { target: opts.target } : {}),
        }
      : {
          id: this.#opts.newId?.(at) ?? randomUUID(),
          subject,
          kind: opts.kind,
          ...(opts.target !== undefined ? { target: opts.target } : {}),
          signals,
          severity: sev,
          since: Math.min(opts.since ?? at, at),
          openedAt: at,
          lastAlertAt: at,
          alerts: 1,
          ...(opts.context ? { context: opts.context } : {}),
        };
    this.#set(incident);
    return { incident, opened: open === undefined };
  }

  /**
   * A signal ended without the subject recovering (a container stopped flapping): the
   * incident closes only when it was the last one open. Returns it, with `closed`.
   */
  clear(
    kind: string,
    subject: string,
    signal: string,
  ): { incident: Incident; closed: boolean } | undefined {
    const open = this.#open.get(keyOf(kind, subject));
    if (!open || !(signal in open.signals)) return undefined;
    const { [signal]: _gone, ...signals } = open.signals;
    if (Object.keys(signals).length === 0) {
      this.#delete(open);
      return { incident: open, closed: true };
    }
    const incident = { ...open, signals, severity: highest(signals) };
    this.#set(incident);
    return { incident, closed: false };
  }

  /** The subject recovered: its incident closes, whatever signals it had. */
  close(kind: string, subject: string): Incident | undefined {
    const open = this.#open.get(keyOf(kind, subject));
    if (open) this.#delete(open);
    return open;
  }

  /** The open incident of a subject. */
  get(kind: string, subject: string): Incident | undefined {
    return this.#open.get(keyOf(kind, subject));
  }

  /** The open incident whose subject or target is `name`. */
  find(name: string): Incident | undefined {
    for (const i of this.#open.values()) if (i.subject === name) return i;
    for (const i of this.#open.values()) if (i.target === name) return i;
    return undefined;
  }

  /** Open incidents, of one kind or all. */
  list(kind?: string): Incident[] {
    const all = [...this.#open.values()];
    return kind === undefined ? all : all.filter((i) => i.kind === kind);
  }

  get size(): number {
    return this.#open.size;
  }

  #set(incident: Incident): void {
    this.#open.set(keyOf(incident.kind, incident.subject), incident);
    this.#save();
  }

  #delete(incident: Incident): void {
    this.#open.delete(keyOf(incident.kind, incident.subject));
    this.#save();
  }

  #save(): void {
    this.#opts.file?.save({ version: 1, open: [...this.#open.values()] });
  }
}

/** The book's key: NUL cannot appear in a kind, so no two (kind, subject) pairs meet. */
function keyOf(kind: string, subject: string): string {
  return `${kind}\u0000${subject}`;
}

/** How an event names its incident (`data.incident`). */
export function incidentRef(i: Incident, at: number, status: IncidentRef['status']): IncidentRef {
  return {
    id: i.id,
    opened_at: new Date(i.openedAt).toISOString(),
    status,
    alerts: i.alerts,
    open_s: Math.max(0, Math.round((at - i.openedAt) / 1000)),
  };
}

function highest(signals: Readonly<Record<string, Severity>>): Severity {
  let top: Severity = 'debug';
  for (const s of Object.values(signals)) if (severityRank(s) > severityRank(top)) top = s;
  return top;
}
