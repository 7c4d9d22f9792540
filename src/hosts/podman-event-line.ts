import type { EngineEvent } from './engine-events.js';
import { CONTAINER_ID } from './inspect-schema.js';

/**
 * One line of podman's events file (libpod's Event as JSON) → the event the API stream
 * would carry for it (what `parseEvent` makes of podman's Docker-compatible /events line):
 * `died` → `die` with its exit code (`ContainerExitCode`, left out by podman when 0), the
 * `health_status` field as the health result. Undefined for what is not a container's
 * event; a string saying what is wrong with a line that is not an event at all.
 */
export function parsePodmanEventLine(
  line: string,
  receivedAt: number,
): EngineEvent | undefined | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return 'expected a JSON object (one podman event)';
  }
  const e = raw as Record<string, unknown>;
  if (e.Type !== 'container') {
    return typeof e.Type === 'string' ? undefined : `Type ${show(e.Type)}: expected a string`;
  }
  if (typeof e.ID !== 'string' || !CONTAINER_ID.test(e.ID)) {
    return `ID ${show(e.ID)}: expected a container id (64 hex digits)`;
  }
  if (typeof e.Status !== 'string' || e.Status === '') {
    return `Status ${show(e.Status)}: expected an event name such as "start" or "died"`;
  }
  const timeNano = typeof e.Time === 'string' ? nanosOf(e.Time) : undefined;
  if (timeNano === undefined) {
    return `Time ${show(e.Time)}: expected an RFC 3339 time such as "2026-12-07T09:44:53.549985963Z"`;
  }
  const action = e.Status === 'died' ? 'die' : e.Status;
  const event: { -readonly [K in keyof EngineEvent]: EngineEvent[K] } = {
    id: e.ID,
    action,
    timeNano,
    receivedAt,
  };
  if (action === 'die') {
    const code = e.ContainerExitCode ?? 0;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) {
      return `ContainerExitCode ${show(code)}: expected an exit code 0–255`;
    }
    event.exitCode = code;
  } else if (action === 'health_status') {
    const h = e.health_status;
    if (h === 'healthy' || h === 'unhealthy' || h === 'starting') event.health = h;
  }
  return event;
}

/** The `Time` of any line of the file (every type has one), in ns; undefined without. */
export function timeOfLine(line: string): number | undefined {
  const m = /"Time":"([^"]+)"/.exec(line);
  return m ? nanosOf(m[1]!) : undefined;
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * An RFC 3339 time with up to 9 fractional digits → ns since the epoch, as the same double
 * that JSON.parse makes of podman's `timeNano` for the same event (so the API stream's copy
 * compares equal): the integer is built as a decimal string first, then converted once.
 */
export function nanosOf(time: string): number | undefined {
  const m = RFC3339.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  return Number(`${ms / 1000}${(m[2] ?? '').padEnd(9, '0')}`);
}

function show(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v).slice(0, 80);
}
