import type { IPoint } from 'influx';
import { SAMPLE_EVENT_TYPE, type EventData, type NewEvent } from '../../src/core/events.js';
import { nodeRoot, type TopicRoot } from '../../src/core/topics.js';
import { slugify } from '../../src/core/slug.js';
import type { RetainedState } from '../../src/mqtt/state-publisher.js';

/**
 * States as measurements (issue 19): every `sample_interval` the agent's retained states
 * (what Home Assistant shows: containers, hosts, disks, the watchdog's checks) are stored
 * as one `sample` event, so the history has values between events and survives an
 * InfluxDB outage like every other event. Stored at severity `debug`: when the store
 * reaches its bound, its overflow policy drops the oldest samples before any alert. They
 * are for the history alone (`isHistoryOnly`): the event topic, the journal and the uplink
 * skip them.
 */
export { SAMPLE_EVENT_TYPE };

type FieldValue = string | number | boolean;
/** One sampled point, as the sample event keeps it (short keys: one per state per interval). */
interface SampledPoint {
  m: string;
  t: Record<string, string>;
  f: Record<string, FieldValue>;
}

/** The sample event for the states now; undefined when there is nothing to sample. */
export function sampleEvent(
  root: TopicRoot,
  hostIds: readonly string[],
  states: Iterable<RetainedState>,
  at: number,
): NewEvent | undefined {
  const prefix = `${nodeRoot(root)}/`;
  const hostBySlug = new Map(hostIds.map((h) => [slugify(h), h]));
  const points: SampledPoint[] = [];
  for (const s of states) {
    if (!s.topic.startsWith(prefix) || !s.payload.startsWith('{')) continue;
    const parts = s.topic.slice(prefix.length).split('/');
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(s.payload) as Record<string, unknown>;
    } catch {
      continue; // not a JSON state: nothing to measure
    }
    points.push(...statePoints(parts, value, (slug) => hostBySlug.get(slug) ?? slug));
  }
  if (points.length === 0) return undefined;
  return {
    type: SAMPLE_EVENT_TYPE,
    severity: 'debug',
    subject: 'states',
    ts: at,
    data: { points },
  };
}

function statePoints(
  parts: string[],
  v: Record<string, unknown>,
  hostOf: (slug: string) => string,
): SampledPoint[] {
  const [first, hostSlug, what] = parts;
  if (parts.length === 1 && first === 'watchdog') return watchdogPoints(v);
  if (first !== 'hosts' || hostSlug === undefined) return [];
  const host = hostOf(hostSlug);
  if (parts.length === 2) return [hostPoint(host, v)];
  if (parts.length !== 4) return [];
  if (what === 'containers') return [containerPoint(host, parts[3]!, v)];
  if (what === 'disks') return [diskPoint(host, parts[3]!, v)];
  return [];
}

function containerPoint(host: string, slug: string, v: Record<string, unknown>): SampledPoint {
  const container = typeof v.name === 'string' ? v.name : slug;
  const f = pick(v, { state: 'state', health: 'health', restarts: 'restart_count' });
  if (typeof v.exit_code === 'number') f.exit_code = v.exit_code;
  f.running = v.state === 'running';
  return { m: 'containers', t: { host, container }, f };
}

function hostPoint(host: string, v: Record<string, unknown>): SampledPoint {
  const f = pick(v, {
    status: 'status',
    containers: 'containers',
    running: 'running',
    stopped: 'stopped',
    unhealthy: 'unhealthy',
  });
  f.up = v.status === 'ok';
  return { m: 'hosts', t: { host }, f };
}

function diskPoint(host: string, slug: string, v: Record<string, unknown>): SampledPoint {
  const mount = typeof v.mount === 'string' ? v.mount : slug;
  const f = pick(v, {
    size_bytes: 'size',
    used_bytes: 'used',
    free_bytes: 'free',
    used_pct: 'used_pct',
    inodes_used_pct: 'inodes_used_pct',
    level: 'level',
    problem: 'problem',
  });
  return { m: 'disks', t: { host, mount }, f };
}

function watchdogPoints(v: Record<string, unknown>): SampledPoint[] {
  const checks = v.checks;
  if (typeof checks !== 'object' || checks === null) return [];
  const out: SampledPoint[] = [];
  for (const [check, c] of Object.entries(checks as Record<string, Record<string, unknown>>)) {
    if (typeof c !== 'object' || c === null) continue;
    const f = pick(c, { latency_ms: 'latency_ms', failures: 'failures' });
    if (typeof c.ok === 'boolean') f.up = c.ok;
    if (typeof c.down === 'boolean') f.down = c.down;
    const t: Record<string, string> = { check };
    if (typeof c.class === 'string') t.class = c.class;
    out.push({ m: 'watchdog_checks', t, f });
  }
  return out;
}

/** The state's fields that hold a value (null and absent ones are left out), renamed. */
function pick(
  v: Record<string, unknown>,
  names: Record<string, string>,
): Record<string, FieldValue> {
  const f: Record<string, FieldValue> = {};
  for (const [field, key] of Object.entries(names)) {
    const x = v[key];
    if (typeof x === 'string' || typeof x === 'boolean') f[field] = x;
    else if (typeof x === 'number' && Number.isFinite(x)) f[field] = x;
  }
  return f;
}

/** The points a stored sample event carries, tagged with the node; malformed entries skipped. */
export function samplePoints(node: string, data: EventData, timestamp: string): IPoint[] {
  const points = Array.isArray(data.points) ? (data.points as unknown[]) : [];
  const out: IPoint[] = [];
  for (const p of points) {
    if (!isSampledPoint(p) || Object.keys(p.f).length === 0) continue;
    out.push({ measurement: p.m, tags: { ...p.t, node }, fields: p.f, timestamp });
  }
  return out;
}

function isSampledPoint(p: unknown): p is SampledPoint {
  if (typeof p !== 'object' || p === null) return false;
  const s = p as Partial<SampledPoint>;
  return (
    typeof s.m === 'string' &&
    typeof s.t === 'object' &&
    s.t !== null &&
    typeof s.f === 'object' &&
    s.f !== null
  );
}
