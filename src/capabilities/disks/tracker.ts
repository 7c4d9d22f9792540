import type { NewEvent, Severity } from '../../core/events.js';
import { alertData } from '../../core/events.js';
import { incidentRef, type Incident, type Incidents } from '../../state/incidents.js';
import { fillingText, pressureText, recoveredText } from './alert-text.js';
import { GrowthRate, type Growth } from './growth.js';
import { nextLevel, type DiskLevel, type Thresholds } from './levels.js';
import type { DiskReading, DiskUsage, MountReading } from './types.js';

/** The retained state of one mount (`topics.disk`); discovery's DISK_FIELDS read it. */
export interface DiskState {
  mount: string;
  fstype: string;
  size: number | null;
  used: number | null;
  free: number | null;
  used_pct: number | null;
  inodes_used_pct: number | null;
  level: DiskLevel;
  filling: boolean;
  growth_bytes_per_hour: number | null;
  time_to_full_s: number | null;
  /** ON in Home Assistant: over a level or filling. */
  problem: boolean;
  /** Why this poll has no numbers (they are null then, never the last ones). */
  error: string | null;
}

export interface DiskTrackerOptions {
  readonly thresholds: (mount: string) => Thresholds;
  readonly windowMs: number;
  readonly fillWarnMs: number;
  readonly incidents: Incidents;
  onEvent(e: NewEvent): void;
}

/** A mount's state after a poll; undefined: it is gone. */
export type OnDiskState = (mount: string, state: DiskState | undefined) => void;

interface Track {
  level: DiskLevel;
  filling: boolean;
  readonly growth: GrowthRate;
  fstype: string;
}

/** Incident kind of every disk (src/state/incidents.ts); subjects are `<host>:<mount>`. */
export const DISK_KIND = 'disk';
const PRESSURE = 'pressure';
const FILLING = 'filling';

export function diskSubject(host: string, mount: string): string {
  return `${host}:${mount}`;
}

/**
 * The disks' state machine (issue #16): per mount its level with hysteresis, its growth
 * and fill estimate, and one incident per disk in the shared book (signals `pressure` and
 * `filling`): `disk_pressure` and `disk_filling` raise it, `disk_recovered` closes it.
 * A level an earlier run announced is taken up from the book, not announced again.
 */
export class DiskTracker {
  readonly #o: DiskTrackerOptions;
  readonly #hosts = new Map<string, Map<string, Track>>();

  constructor(opts: DiskTrackerOptions) {
    this.#o = opts;
  }

  /** The mounts of a host as last read, in reading order. */
  mounts(host: string): string[] {
    return [...(this.#hosts.get(host)?.keys() ?? [])];
  }

  apply(host: string, reading: DiskReading, at: number, onState: OnDiskState): void {
    const tracks = this.#hosts.get(host) ?? new Map<string, Track>();
    this.#hosts.set(host, tracks);
    if (!reading.complete) {
      // Nothing is known to be gone; nothing is known at all: no numbers, levels kept.
      for (const [mount, t] of tracks) {
        onState(mount, stateOf(mount, t, undefined, reading.error, noGrowth));
      }
      return;
    }
    const seen = new Set<string>();
    for (const r of reading.mounts) {
      seen.add(r.mount);
      onState(r.mount, this.#applyMount(host, tracks, r, at));
    }
    for (const mount of [...tracks.keys()]) {
      if (seen.has(mount)) continue;
      tracks.delete(mount);
      this.#close(host, mount, at, undefined);
      onState(mount, undefined);
    }
  }

  #applyMount(host: string, tracks: Map<string, Track>, r: MountReading, at: number): DiskState {
    const t = tracks.get(r.mount) ?? this.#restored(host, r.mount);
    tracks.set(r.mount, t);
    t.fstype = r.fstype;
    if ('error' in r) return stateOf(r.mount, t, undefined, r.error, noGrowth);
    const u = r.usage;
    const subject = diskSubject(host, r.mount);
    const th = this.#o.thresholds(r.mount);
    const growth = t.growth.add(at, u.used, u.free);
    const level = nextLevel(t.level, u.usedPct, th);
    const filling = this.#filling(t.filling, growth);
    if (level !== t.level && level !== 'ok') {
      const sev: Severity = level === 'critical' ? 'critical' : 'warning';
      const text = pressureText(subject, level, t.level, u, th);
      const data = { host, mount: r.mount, level, previous: t.level, ...numbers(u), threshold: th };
      this.#raise(subject, PRESSURE, 'disk_pressure', sev, at, data, text);
    }
    if (filling && !t.filling && growth.bytesPerHour !== null && growth.timeToFullS !== null) {
      const text = fillingText(
        subject,
        growth.bytesPerHour,
        growth.timeToFullS,
        this.#o.fillWarnMs,
        u,
      );
      const data = {
        host,
        mount: r.mount,
        ...numbers(u),
        growth_bytes_per_hour: growth.bytesPerHour,
        time_to_full_s: growth.timeToFullS,
      };
      this.#raise(subject, FILLING, 'disk_filling', 'warning', at, data, text);
    }
    if (level === 'ok' && t.level !== 'ok') this.#clear(host, r.mount, PRESSURE, at, u);
    if (!filling && t.filling) this.#clear(host, r.mount, FILLING, at, u);
    t.level = level;
    t.filling = filling;
    return stateOf(r.mount, t, u, null, growth);
  }

  /**
   * Filling while the estimate is under `fill_warn`; it ends once the estimate is half as
   * long again or the disk stops growing. No estimate yet (a restart) changes nothing.
   */
  #filling(was: boolean, g: Growth): boolean {
    if (g.bytesPerHour === null) return was;
    const ttfMs = g.timeToFullS === null ? Infinity : g.timeToFullS * 1000;
    if (ttfMs < this.#o.fillWarnMs) return true;
    return was && ttfMs < this.#o.fillWarnMs * 1.5;
  }

  #raise(
    subject: string,
    signal: string,
    type: string,
    sev: Severity,
    at: number,
    data: Record<string, unknown>,
    text: { title: string; message: string },
  ): void {
    const { incident } = this.#o.incidents.raise(subject, signal, sev, at, { kind: DISK_KIND });
    const ref = incidentRef(incident, at, 'open');
    this.#o.onEvent({ type, severity: sev, subject, ts: at, data: alertData(data, text, ref) });
  }

  /** A signal ended; the incident closes, with `disk_recovered`, when it was the last. */
  #clear(host: string, mount: string, signal: string, at: number, u: DiskUsage): void {
    const subject = diskSubject(host, mount);
    const r = this.#o.incidents.clear(DISK_KIND, subject, signal);
    if (r?.closed) this.#recovered(host, mount, r.incident, at, u);
  }

  /** The mount is gone: its incident, if any, closes. */
  #close(host: string, mount: string, at: number, u: DiskUsage | undefined): void {
    const closed = this.#o.incidents.close(DISK_KIND, diskSubject(host, mount));
    if (closed) this.#recovered(host, mount, closed, at, u);
  }

  #recovered(host: string, mount: string, i: Incident, at: number, u?: DiskUsage): void {
    const subject = diskSubject(host, mount);
    const text = recoveredText(subject, i.since, at, u);
    const data = { host, mount, ...(u ? numbers(u) : { mounted: false }) };
    this.#o.onEvent({
      type: 'disk_recovered',
      severity: 'info',
      subject,
      ts: at,
      data: alertData(data, text, incidentRef(i, at, 'closed')),
    });
  }

  #restored(host: string, mount: string): Track {
    const open = this.#o.incidents.get(DISK_KIND, diskSubject(host, mount));
    const p = open?.signals[PRESSURE];
    return {
      level: p === 'critical' ? 'critical' : p === undefined ? 'ok' : 'warn',
      filling: open?.signals[FILLING] !== undefined,
      growth: new GrowthRate(this.#o.windowMs),
      fstype: '',
    };
  }
}

const noGrowth: Growth = { bytesPerHour: null, timeToFullS: null };

function numbers(u: DiskUsage): Record<string, number | null> {
  return {
    used_pct: u.usedPct,
    size: u.size,
    used: u.used,
    free: u.free,
    inodes_used_pct: u.inodesUsedPct,
  };
}

function stateOf(
  mount: string,
  t: Track,
  u: DiskUsage | undefined,
  error: string | null,
  g: Growth,
): DiskState {
  return {
    mount,
    fstype: t.fstype,
    size: u?.size ?? null,
    used: u?.used ?? null,
    free: u?.free ?? null,
    used_pct: u?.usedPct ?? null,
    inodes_used_pct: u?.inodesUsedPct ?? null,
    level: t.level,
    filling: t.filling,
    growth_bytes_per_hour: g.bytesPerHour,
    time_to_full_s: g.timeToFullS,
    problem: t.level !== 'ok' || t.filling,
    error,
  };
}
