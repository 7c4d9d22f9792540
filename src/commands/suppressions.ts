import { z } from 'zod';

/**
 * What keeps alerts and automatic actions quiet for a target: maintenance of its host
 * (until switched off or until a time), a silence of the host or the container for a
 * time, and the quiet time after a planned restart. Maintenance and silences are
 * persisted (snapshot) so a restart of the agent does not end them; quiet times are not.
 */

const entry = z.strictObject({
  until: z.number().nullable(),
  by: z.string().nullable(),
});
export const suppressionSnapshotSchema = z.strictObject({
  maintenance: z.record(z.string(), entry),
  silences: z.record(z.string(), entry),
});
export type SuppressionSnapshot = z.output<typeof suppressionSnapshotSchema>;
type Entry = z.output<typeof entry>;

export type SuppressionReason = 'maintenance' | 'silenced' | 'quiet_after_restart';

export function hostOf(target: string): string {
  const slash = target.indexOf('/');
  return slash < 0 ? target : target.slice(0, slash);
}

export class Suppressions {
  readonly #maintenance = new Map<string, Entry>();
  readonly #silences = new Map<string, Entry>();
  readonly #quiet = new Map<string, number>();

  constructor(snapshot?: SuppressionSnapshot) {
    for (const [k, v] of Object.entries(snapshot?.maintenance ?? {})) this.#maintenance.set(k, v);
    for (const [k, v] of Object.entries(snapshot?.silences ?? {})) this.#silences.set(k, v);
  }

  /** Maintenance on (until a time, or until switched off: `until` null) or off. */
  setMaintenance(host: string, enabled: boolean, until: number | null, by: string | null): void {
    if (enabled) this.#maintenance.set(host, { until, by });
    else this.#maintenance.delete(host);
  }

  /** The host's maintenance at `now`, if on. */
  maintenance(host: string, now: number): Entry | undefined {
    return live(this.#maintenance, host, now);
  }

  silence(target: string, until: number, by: string | null): void {
    this.#silences.set(target, { until, by });
  }

  /** Ends the target's own silence now (not its host's, nor its containers'). */
  unsilence(target: string): void {
    this.#silences.delete(target);
  }

  /** The silence of exactly this target (a host or `<host>/<container>`) at `now`, if on. */
  silenced(target: string, now: number): Entry | undefined {
    return live(this.#silences, target, now);
  }

  /** The silences of the host's containers at `now`, by container name. */
  containerSilences(host: string, now: number): Map<string, Entry> {
    const out = new Map<string, Entry>();
    for (const target of [...this.#silences.keys()]) {
      const e =
        hostOf(target) === host && target !== host ? live(this.#silences, target, now) : undefined;
      if (e) out.set(target.slice(host.length + 1), e);
    }
    return out;
  }

  /** Quiet after a planned restart, start or stop of the target, until `until`. */
  quiet(target: string, until: number): void {
    this.#quiet.set(target, Math.max(until, this.#quiet.get(target) ?? 0));
  }

  /** Why the target is suppressed at `now`, if it is. */
  reason(target: string, now: number): SuppressionReason | undefined {
    const host = hostOf(target);
    if (live(this.#maintenance, host, now)) return 'maintenance';
    if (live(this.#silences, target, now) || live(this.#silences, host, now)) return 'silenced';
    const q = this.#quiet.get(target);
    if (q !== undefined && now < q) return 'quiet_after_restart';
    if (q !== undefined) this.#quiet.delete(target);
    return undefined;
  }

  /** Hosts with maintenance on at `now`, and when each ends (null: until switched off). */
  maintenanceHosts(now: number): Map<string, number | null> {
    const out = new Map<string, number | null>();
    for (const host of [...this.#maintenance.keys()]) {
      const e = live(this.#maintenance, host, now);
      if (e) out.set(host, e.until);
    }
    return out;
  }

  /** The next time a timed maintenance or a silence ends (its state is republished then). */
  nextEnd(now: number): number | undefined {
    let next: number | undefined;
    for (const e of [...this.#maintenance.values(), ...this.#silences.values()]) {
      if (e.until !== null && e.until > now && (next === undefined || e.until < next))
        next = e.until;
    }
    return next;
  }

  /** What survives a restart: maintenance and silences still running at `now`. */
  snapshot(now: number): SuppressionSnapshot {
    const keep = (m: Map<string, Entry>) =>
      Object.fromEntries([...m].filter(([, e]) => e.until === null || e.until > now));
    return { maintenance: keep(this.#maintenance), silences: keep(this.#silences) };
  }
}

function live(m: Map<string, Entry>, key: string, now: number): Entry | undefined {
  const e = m.get(key);
  if (!e) return undefined;
  if (e.until !== null && e.until <= now) {
    m.delete(key);
    return undefined;
  }
  return e;
}
