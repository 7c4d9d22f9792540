import type { LiveEntity } from './live-entities.js';

/** An entity's state as the preview shows it, read from the retained MQTT state. */
export interface PreviewState {
  /** HA's raw state: `on`, `off`, `running`, `42.5`, an ISO time, or `unknown`. */
  readonly state: string;
  readonly platform: string;
  readonly deviceClass: string | undefined;
  readonly unit: string | undefined;
  /** The name HA shows: the device's name, then the entity's (`has_entity_name`). */
  readonly friendlyName: string;
}

/**
 * What HA would show for each entity, from the retained states, for outpost's own preview
 * (HA's frontend cannot run here). HA renders `value_template` with Jinja; the preview reads
 * only the few template shapes outpost's builders write (discovery/entity-builder.ts: a
 * field, an enum field, a condition on one field) and shows `unknown` for anything else,
 * rather than guess.
 */
export function previewStates(
  entities: readonly LiveEntity[],
  retained: ReadonlyMap<string, string>,
): Map<string, PreviewState> {
  const out = new Map<string, PreviewState>();
  for (const e of entities) {
    const raw = e.stateTopic === undefined ? undefined : retained.get(e.stateTopic);
    out.set(e.entityId, {
      state: raw === undefined ? 'unknown' : stateOf(e, raw),
      platform: e.platform,
      deviceClass: e.deviceClass,
      unit:
        typeof e.payload.unit_of_measurement === 'string'
          ? e.payload.unit_of_measurement
          : undefined,
      friendlyName: `${e.device.name} ${e.name}`,
    });
  }
  return out;
}

function stateOf(e: LiveEntity, raw: string): string {
  const p = e.payload;
  const template = typeof p.value_template === 'string' ? p.value_template : undefined;
  if (template === undefined) {
    // A plain payload: a binary sensor's payload_on / payload_off, else the text itself.
    if (raw === p.payload_on) return 'on';
    if (raw === p.payload_off) return 'off';
    return raw;
  }
  let json: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return 'unknown';
    json = v as Record<string, unknown>;
  } catch {
    return 'unknown';
  }
  return fromTemplate(template, json) ?? 'unknown';
}

const ON_OFF = /^\{\{ 'ON' if (.+) else 'OFF' \}\}$/;
const CONDITION = /^(not )?value_json\[\s*"(\w+)"\s*\](?: == (?:'([^']*)'|(true)))?$/;
const GET = /^value_json\.get\('(\w+)'\)$/;
const FIELD = /^\{\{ value_json\["(\w+)"\] if /;
const ENUM = /^\{% set v = value_json\.get\("(\w+)"\) %\}/;
const SELECTED = /value_json\['selected'\]\['option'\]/;

/** The state for one of outpost's own template shapes; undefined for any other. */
function fromTemplate(t: string, json: Record<string, unknown>): string | undefined {
  const onOff = ON_OFF.exec(t);
  if (onOff) {
    const cond = onOff[1]!;
    const get = GET.exec(cond);
    if (get) return json[get[1]!] ? 'on' : 'off';
    const c = CONDITION.exec(cond);
    if (!c) return undefined;
    const v = json[c[2]!];
    let holds = c[3] !== undefined ? v === c[3] : c[4] !== undefined ? v === true : Boolean(v);
    if (c[1]) holds = !holds;
    return holds ? 'on' : 'off';
  }
  const name = FIELD.exec(t)?.[1] ?? ENUM.exec(t)?.[1];
  if (name !== undefined) {
    const v = json[name];
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : 'unknown';
  }
  if (SELECTED.test(t)) {
    const s = json.selected as { option?: unknown } | undefined;
    return typeof s?.option === 'string' ? s.option : 'none';
  }
  return undefined;
}
