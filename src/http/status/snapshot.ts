import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import type { HealthReport } from '../health-api.js';

/**
 * What the status page shows, read from what the agent already exposes: the capabilities'
 * health reports (the same data as `GET /api/health/<path>`), remediation's pending
 * actions, the book of open incidents and the event store's statistics. The page never
 * reaches into a capability: a report it cannot read shows as "unavailable".
 */
export interface StatusSnapshot {
  readonly node: string;
  readonly at: string;
  /** The MQTT link to the broker is up. */
  readonly mqtt: boolean;
  readonly hosts: readonly HostRow[];
  readonly containers: Section<ContainerRow>;
  readonly disks: Section<DiskRow>;
  readonly watchdog: WatchdogView | Missing;
  readonly backups: Section<BackupRow>;
  readonly incidents: readonly IncidentView[];
  readonly store: StoreView | Missing;
  readonly pending: readonly PendingView[];
}

/** A part of the agent that is off (`off`) or whose report could not be read. */
export interface Missing {
  readonly missing: 'off' | 'unavailable';
  readonly why?: string;
}
export type Section<T> = readonly T[] | Missing;

export interface HostRow {
  readonly host: string;
  readonly status: string;
  readonly message: string | null;
}
export type ContainerRow = z.output<typeof service>;
export type DiskRow = z.output<typeof mount> & { readonly host: string };
export type BackupRow = z.output<typeof job>;
export interface WatchdogView {
  readonly healthy: boolean;
  readonly uplink: boolean;
  readonly checks: readonly (z.output<typeof check> & { readonly name: string })[];
}

/** An open incident, as the book holds it. */
export interface IncidentView {
  readonly subject: string;
  readonly kind: string;
  readonly severity: string;
  readonly since: number;
  readonly signals: Readonly<Record<string, string>>;
}

/** An action held for approval, as remediation lists it. */
export interface PendingView {
  readonly id: string;
  readonly action: string;
  readonly target: string;
  readonly requested_by: string | null;
  readonly reason: string | null;
  readonly decision: { readonly message: string };
  readonly created_at: string;
  readonly expires_at: string | null;
}

export interface StoreView {
  readonly count: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly dropped: number;
  readonly writable: boolean;
  readonly lastError: string | undefined;
  /** Per sink: events not yet delivered. */
  readonly backlog: readonly { readonly sink: string; readonly count: number }[];
}

/** The event store as far as the page reads it (src/store/event-store.ts fits). */
export interface StoreReader {
  stats(): Promise<{
    count: number;
    bytes: number;
    maxBytes: number;
    dropped: { total: number };
    writable: boolean;
    lastError: string | undefined;
  }>;
  sinks(): Promise<readonly { name: string; registered: boolean }[]>;
  backlog(sink: string): Promise<{ count: number }>;
}

/** Where the page reads from; main.ts passes what the agent holds. */
export interface StatusSources {
  readonly node: string;
  /**
   * `hosts`: every host shows, even one nothing watches yet; `local` when it is the
   * agent's own machine (no `ssh`, no `engine`).
   */
  readonly hosts: readonly { readonly id: string; readonly local: boolean }[];
  readonly reports: readonly HealthReport[];
  mqttConnected(): boolean;
  pending(): readonly PendingView[];
  incidents(): readonly IncidentView[];
  readonly store?: StoreReader;
}

const service = z.object({
  host: z.string(),
  name: z.string(),
  status: z.string(),
  message: z.string(),
  critical: z.boolean(),
});
const services = z.object({
  services: z.array(service),
  hosts: z.array(
    z.object({ host: z.string(), status: z.string(), message: z.string().nullable() }),
  ),
});
const mount = z.object({
  mount: z.string(),
  level: z.string(),
  used_pct: z.number().nullable(),
  free: z.number().nullable(),
  filling: z.boolean(),
  time_to_full_s: z.number().nullable(),
  error: z.string().nullable(),
});
const disks = z.record(z.string(), z.object({ mounts: z.array(mount) }));
const check = z.object({
  ok: z.boolean(),
  down: z.boolean(),
  class: z.string(),
  message: z.string(),
});
const watchdog = z.object({
  healthy: z.boolean(),
  uplink: z.boolean(),
  checks: z.record(z.string(), check),
});
const job = z.object({
  job: z.string(),
  host: z.string(),
  status: z.string(),
  problem: z.boolean(),
  last_success: z.string().nullable(),
  message: z.string().nullable(),
});
const backups = z.array(job);

/** One reading of everything the page shows. */
export async function takeSnapshot(s: StatusSources, now: number): Promise<StatusSnapshot> {
  const read = <T>(path: string, schema: z.ZodType<T>): { value: T } | Missing => {
    const r = s.reports.find((x) => x.path === path);
    if (!r) return { missing: 'off' };
    try {
      const parsed = schema.safeParse(r.report());
      return parsed.success ? { value: parsed.data } : { missing: 'unavailable' };
    } catch {
      return { missing: 'unavailable' };
    }
  };
  const svc = read('services', services);
  const dog = read('watchdog', watchdog);
  const disk = read('disks', disks);
  const jobs = read('backups', backups);
  return {
    node: s.node,
    at: new Date(now).toISOString(),
    mqtt: s.mqttConnected(),
    hosts: hostRows(s.hosts, 'missing' in svc ? [] : svc.value.hosts),
    containers: 'missing' in svc ? svc : svc.value.services,
    disks:
      'missing' in disk
        ? disk
        : Object.entries(disk.value).flatMap(([host, d]) => d.mounts.map((m) => ({ ...m, host }))),
    watchdog:
      'missing' in dog
        ? dog
        : {
            healthy: dog.value.healthy,
            uplink: dog.value.uplink,
            checks: Object.entries(dog.value.checks).map(([name, c]) => ({ ...c, name })),
          },
    backups: 'missing' in jobs ? jobs : jobs.value,
    incidents: s.incidents(),
    store: s.store ? await storeView(s.store) : { missing: 'off' },
    pending: s.pending(),
  };
}

/** Every configured host, with what the container collectors say of its reachability. */
function hostRows(
  hosts: readonly { readonly id: string; readonly local: boolean }[],
  seen: readonly HostRow[],
): HostRow[] {
  const known = new Map(seen.map((h) => [h.host, h]));
  const rows = hosts.map(
    (h) =>
      known.get(h.id) ??
      (h.local
        ? { host: h.id, status: 'ok', message: "the agent's own machine" }
        : { host: h.id, status: 'unknown', message: 'not reached yet' }),
  );
  return [...rows, ...seen.filter((h) => !hosts.some((x) => x.id === h.host))];
}

async function storeView(store: StoreReader): Promise<StoreView | Missing> {
  try {
    const stats = await store.stats();
    const sinks = (await store.sinks()).filter((k) => k.registered);
    const backlog = await Promise.all(
      sinks.map(async (k) => ({ sink: k.name, count: (await store.backlog(k.name)).count })),
    );
    const { count, bytes, maxBytes, writable, lastError } = stats;
    return { count, bytes, maxBytes, dropped: stats.dropped.total, writable, lastError, backlog };
  } catch (err) {
    return { missing: 'unavailable', why: errorMessage(err) };
  }
}
