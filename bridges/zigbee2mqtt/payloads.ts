import { z } from 'zod';

/**
 * What Zigbee2MQTT publishes under its base topic, as far as the watch reads it. Lenient:
 * unknown fields are kept and ignored, since every Zigbee2MQTT release adds some; a
 * payload whose fields we read have the wrong type is refused with the field, the value
 * and what was expected (see `describeIssue`).
 */

export type BridgeState = 'online' | 'offline';

const bridgeStateJson = z.looseObject({
  state: z.enum(['online', 'offline'], { error: 'expected "online" or "offline"' }),
});

/**
 * `bridge/state`: the plain `online` / `offline` of Zigbee2MQTT before 1.18 (still what
 * some set as their last will) or the JSON `{"state": "online"}` of current releases.
 */
export function parseBridgeState(payload: string): BridgeState | PayloadError {
  const text = payload.trim();
  if (text === 'online' || text === 'offline') return text;
  const json = parseJson(payload);
  if (json instanceof PayloadError) {
    return new PayloadError('', text, 'expected online, offline or {"state": "online"|"offline"}');
  }
  const r = bridgeStateJson.safeParse(json);
  return r.success ? r.data.state : issueOf(r.error, json);
}

const bridgeInfo = z.looseObject({
  version: z.string({ error: 'expected a version string' }).optional(),
  commit: z.string({ error: 'expected a commit string' }).optional(),
  coordinator: z
    .looseObject({
      type: z.string({ error: 'expected a coordinator type string' }).optional(),
      ieee_address: z.string({ error: 'expected an IEEE address string' }).optional(),
    })
    .optional(),
  permit_join: z.boolean({ error: 'expected true or false' }).optional(),
});
export type BridgeInfo = z.output<typeof bridgeInfo>;

/** `bridge/info` (retained): version, coordinator, permit_join. */
export function parseBridgeInfo(payload: string): BridgeInfo | PayloadError {
  return parseWith(bridgeInfo, payload);
}

const bridgeHealth = z.looseObject({
  healthy: z.boolean({ error: 'expected true or false' }).optional(),
  response_time: z.number({ error: 'expected a number (ms since epoch)' }).optional(),
});
export type BridgeHealth = z.output<typeof bridgeHealth>;

/** `bridge/health` (Zigbee2MQTT 2.x, when `health` checks are on). */
export function parseBridgeHealth(payload: string): BridgeHealth | PayloadError {
  return parseWith(bridgeHealth, payload);
}

const bridgeDevices = z.array(
  z.looseObject({
    friendly_name: z.string({ error: 'expected a friendly name string' }),
    type: z.string({ error: 'expected a device type string' }).optional(),
  }),
  { error: 'expected a list of devices' },
);

/** `bridge/devices` (retained): the network's devices, the coordinator not counted. */
export function parseBridgeDevices(payload: string): string[] | PayloadError {
  const r = parseWith(bridgeDevices, payload);
  if (r instanceof PayloadError) return r;
  return r.filter((d) => d.type !== 'Coordinator').map((d) => d.friendly_name);
}

const lastSeen = z.union([z.number(), z.string()]).optional();

/**
 * A device's `last_seen` from its state message (`advanced.last_seen`: epoch ms or an ISO
 * 8601 string); undefined when the message has none or is not JSON (a plain value).
 */
export function deviceLastSeen(payload: string): number | undefined {
  if (!payload.startsWith('{')) return undefined;
  const json = parseJson(payload);
  if (json instanceof PayloadError || typeof json !== 'object' || json === null) return undefined;
  const v = lastSeen.safeParse((json as Record<string, unknown>).last_seen);
  if (!v.success || v.data === undefined) return undefined;
  const ms = typeof v.data === 'number' ? v.data : Date.parse(v.data);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A payload refused: the field (empty for the whole payload), its value, what was expected. */
export class PayloadError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {}

  toString(): string {
    const where = this.field === '' ? 'payload' : `field ${this.field}`;
    return `${where} ${JSON.stringify(this.value)?.slice(0, 200)}: ${this.expected}`;
  }
}

function parseWith<T>(schema: z.ZodType<T>, payload: string): T | PayloadError {
  const json = parseJson(payload);
  if (json instanceof PayloadError) return json;
  const r = schema.safeParse(json);
  return r.success ? r.data : issueOf(r.error, json);
}

function parseJson(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return new PayloadError('', payload.slice(0, 200), 'expected JSON');
  }
}

function issueOf(err: z.ZodError, input: unknown): PayloadError {
  const issue = err.issues[0]!;
  let value: unknown = input;
  for (const key of issue.path) {
    value =
      typeof value === 'object' && value !== null
        ? (value as Record<PropertyKey, unknown>)[key]
        : undefined;
  }
  return new PayloadError(issue.path.join('.'), value, issue.message);
}
