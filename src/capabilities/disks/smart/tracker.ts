import { slugify } from '../../../core/slug.js';
import { alertData, type NewEvent, type Severity } from '../../../core/events.js';
import { incidentRef, type Incident, type Incidents } from '../../../state/incidents.js';
import { DISK_KIND } from '../tracker.js';
import { driveId, type SmartBaselines } from './baselines.js';
import type { SmartDevice, SmartHealth } from './parse.js';
import type { SmartReading } from './reader.js';

/** The retained state of one drive (`topics.smart`); discovery's SMART_FIELDS read it. */
export interface SmartState {
  device: string;
  type: string;
  protocol: string | null;
  model: string | null;
  serial: string | null;
  /** The drive's own verdict; `unknown` when its report has none. */
  health: 'passed' | 'failed' | 'unknown';
  temperature_c: number | null;
  reallocated: number | null;
  pending: number | null;
  power_on_hours: number | null;
  /** Its reallocated count rose within `smart.stable_after`. */
  reallocating: boolean;
  /** ON in Home Assistant: failed, or reallocating. */
  problem: boolean;
  /** Why this poll has no numbers (they are null then, never the last ones). */
  error: string | null;
}

export interface SmartTrackerOptions {
  readonly incidents: Incidents;
  /** A reallocating drive whose count has not risen for this long is settled again. */
  readonly stableAfterMs: number;
  /** Reallocated counts kept across restarts; without it a restart starts from the next reading. */
  readonly baselines?: SmartBaselines;
  onEvent(e: NewEvent): void;
}

export type OnSmartState = (key: string, state: SmartState | undefined) => void;

const FAILED = 'smart_failed';
const REALLOCATING = 'reallocating';

interface Track {
  device: SmartDevice;
  failed: boolean;
  reallocating: boolean;
  /** The count last read; null until one is, or the baselines know the drive. */
  reallocated: number | null;
  lastRiseAt: number;
  /** Who the drive behind this device is (baselines.ts driveId); undefined until read. */
  drive?: string;
}

/** The id token of a drive: `/dev/sda` → `sda`, `/dev/bus/0` as megaraid,1 → `bus_0_megaraid_1`. */
export function smartKey(d: SmartDevice): string {
  const path = d.name.replace(/^\/dev\//, '');
  return slugify(d.type.includes(',') ? `${path}_${d.type}` : path);
}

/** A drive's incident subject: beside the host's mounts (`nas:/srv`), `nas:smart:/dev/sda`. */
export function smartSubject(host: string, d: SmartDevice): string {
  return `${host}:smart:${d.name}${d.type.includes(',') ? ` (${d.type})` : ''}`;
}

/**
 * SMART's state machine (issue #16): per drive its verdict and counters, and one
 * incident per drive in the shared book (kind `disk`) with two signals: a failed verdict
 * (`disk_smart_failed`, critical) and a reallocated count that rises
 * (`disk_sectors_reallocated`, warning). The incident closes with `disk_recovered` when
 * neither holds any more (a passed verdict; a count steady for `stable_after`) or the
 * drive is gone.
 */
export class SmartTracker {
  readonly #o: SmartTrackerOptions;
  readonly #hosts = new Map<string, Map<string, Track>>();

  constructor(opts: SmartTrackerOptions) {
    this.#o = opts;
  }

  /** The keys of a host's drives as last read. */
  devices(host: string): string[] {
    return [...(this.#hosts.get(host)?.keys() ?? [])];
  }

  apply(host: string, reading: SmartReading, at: number, onState: OnSmartState): void {
    const tracks = this.#hosts.get(host) ?? new Map<string, Track>();
    this.#hosts.set(host, tracks);
    if (reading.kind === 'error') {
      for (const [key, t] of tracks) onState(key, stateOf(t, undefined, reading.error));
      return;
    }
    const seen = new Set<string>();
    for (const r of reading.kind === 'devices' ? reading.devices : []) {
      const key = smartKey(r.device);
      seen.add(key);
      const t = tracks.get(key) ?? this.#restored(host, r.device, at);
      tracks.set(key, t);
      t.device = r.device;
      if ('error' in r) onState(key, stateOf(t, undefined, r.error));
      else onState(key, this.#applyHealth(host, key, t, r.health, at));
    }
    for (const [key, t] of [...tracks]) {
      if (seen.has(key)) continue;
      tracks.delete(key);
      const closed = this.#o.incidents.close(DISK_KIND, smartSubject(host, t.device));
      if (closed) this.#recovered(host, t, closed, at, 'is no longer listed by smartctl');
      onState(key, undefined);
    }
  }

  #applyHealth(host: string, key: string, t: Track, h: SmartHealth, at: number): SmartState {
    const subject = smartSubject(host, t.device);
    const drive = driveId(h.serial, key);
    if (t.drive !== drive) {
      // First reading since start, or another drive behind the same device name.
      t.drive = drive;
      t.reallocated = this.#o.baselines?.get(host, drive) ?? null;
    }
    const data = { host, device: t.device.name, ...numbers(h) };
    if (h.passed === false && !t.failed) {
      t.failed = true;
      const text = {
        title: `${subject} is failing`,
        message: `${subject} (${h.model ?? 'unknown model'}) reports its SMART overall health as FAILED: back up its data and replace it`,
      };
      this.#raise(subject, FAILED, 'disk_smart_failed', 'critical', at, data, text);
    } else if (h.passed === true && t.failed) {
      t.failed = false;
      this.#clear(host, t, FAILED, at);
    }
    const before = t.reallocated;
    if (h.reallocated !== null && before !== null && h.reallocated > before) {
      t.lastRiseAt = at;
      const text = {
        title: `${subject} is reallocating sectors`,
        message: `${subject} reallocated ${h.reallocated - before} more sectors (${before} → ${h.reallocated}): the drive is wearing out`,
      };
      t.reallocating = true;
      // Every rise is news: one more alert of the drive's open incident, not a new one.
      const ev = { ...data, previous_reallocated: before };
      this.#raise(subject, REALLOCATING, 'disk_sectors_reallocated', 'warning', at, ev, text);
    } else if (t.reallocating && at - t.lastRiseAt >= this.#o.stableAfterMs) {
      t.reallocating = false;
      this.#clear(host, t, REALLOCATING, at);
    }
    if (h.reallocated !== null) {
      t.reallocated = h.reallocated;
      this.#o.baselines?.set(host, drive, h.reallocated);
    }
    return stateOf(t, h, null);
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

  #clear(host: string, t: Track, signal: string, at: number): void {
    const r = this.#o.incidents.clear(DISK_KIND, smartSubject(host, t.device), signal);
    if (r?.closed) this.#recovered(host, t, r.incident, at, 'is healthy again');
  }

  #recovered(host: string, t: Track, i: Incident, at: number, how: string): void {
    const subject = smartSubject(host, t.device);
    this.#o.onEvent({
      type: 'disk_recovered',
      severity: 'info',
      subject,
      ts: at,
      data: alertData(
        { host, device: t.device.name },
        { title: `${subject} ${how}`, message: `${subject} ${how}; its alert is closed` },
        incidentRef(i, at, 'closed'),
      ),
    });
  }

  /** A drive an earlier run alerted on takes up its signals from the book. */
  #restored(host: string, device: SmartDevice, at: number): Track {
    const open = this.#o.incidents.get(DISK_KIND, smartSubject(host, device));
    return {
      device,
      failed: open?.signals[FAILED] !== undefined,
      reallocating: open?.signals[REALLOCATING] !== undefined,
      reallocated: null,
      lastRiseAt: at,
    };
  }
}

function numbers(h: SmartHealth): Record<string, number | boolean | null> {
  return {
    passed: h.passed,
    temperature_c: h.temperatureC,
    reallocated: h.reallocated,
    pending: h.pending,
    power_on_hours: h.powerOnHours,
  };
}

function stateOf(t: Track, h: SmartHealth | undefined, error: string | null): SmartState {
  const passed = h?.passed ?? null;
  return {
    device: t.device.name,
    type: t.device.type,
    protocol: h?.protocol ?? null,
    model: h?.model ?? null,
    serial: h?.serial ?? null,
    health: passed === null ? 'unknown' : passed ? 'passed' : 'failed',
    temperature_c: h?.temperatureC ?? null,
    reallocated: h?.reallocated ?? null,
    pending: h?.pending ?? null,
    power_on_hours: h?.powerOnHours ?? null,
    reallocating: t.reallocating,
    problem: t.failed || t.reallocating,
    error,
  };
}
