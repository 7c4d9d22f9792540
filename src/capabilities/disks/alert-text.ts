import type { AlertText } from '../../core/events.js';
import { spokenDuration } from '../../core/spoken-duration.js';
import type { DiskLevel, Thresholds } from './levels.js';
import type { DiskUsage } from './types.js';

/**
 * The words of the disk alerts, as the container ones (issue #14): "nas:/srv is 91 % full",
 * in the event's `title` and `message`, the log, and Home Assistant's Alerts entity.
 */

/** Bytes as a person reads them: "512 MiB", "8.1 GiB". */
export function spokenBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const shown = i === 0 || v >= 100 ? Math.round(v).toString() : v.toFixed(1);
  return `${n < 0 ? '-' : ''}${shown} ${units[i]}`;
}

function room(u: DiskUsage): string {
  return `${spokenBytes(u.free)} free of ${spokenBytes(u.size)}`;
}

/** A level raised, or lowered from critical to warn. */
export function pressureText(
  subject: string,
  level: Exclude<DiskLevel, 'ok'>,
  prev: DiskLevel,
  u: DiskUsage,
  t: Thresholds,
): AlertText {
  const pct = `${u.usedPct.toFixed(1)} %`;
  if (level === 'warn' && prev === 'critical') {
    return {
      title: `${subject} is below critical`,
      message: `${subject} is down to ${pct} full (critical at ${t.critical} %), still over the warning level: ${room(u)}`,
    };
  }
  const at = level === 'critical' ? `critical at ${t.critical} %` : `warning at ${t.warn} %`;
  return {
    title: `${subject} is ${Math.floor(u.usedPct)} % full`,
    message: `${subject} is ${pct} full (${at}): ${room(u)}`,
  };
}

/** The estimate of when it fills dropped under `fill_warn`. */
export function fillingText(
  subject: string,
  bytesPerHour: number,
  timeToFullS: number,
  fillWarnMs: number,
  u: DiskUsage,
): AlertText {
  const left = spokenDuration(timeToFullS * 1000);
  return {
    title: `${subject} will be full in about ${left}`,
    message: `${subject} is growing by ${spokenBytes(bytesPerHour)}/h: at that rate its ${spokenBytes(u.free)} free last about ${left} (warning under ${spokenDuration(fillWarnMs)})`,
  };
}

/** The incident closed: usage back under the levels and not filling, or the mount gone. */
export function recoveredText(
  subject: string,
  since: number,
  at: number,
  u: DiskUsage | undefined,
): AlertText {
  const lasted = spokenDuration(at - since);
  if (!u) {
    return {
      title: `${subject} is no longer mounted`,
      message: `${subject} is no longer mounted; its alert of ${lasted} is closed`,
    };
  }
  return {
    title: `${subject} recovered`,
    message: `${subject} is back to ${u.usedPct.toFixed(1)} % full after ${lasted}: ${room(u)}`,
  };
}
