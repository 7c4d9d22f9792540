import { z } from 'zod';

/**
 * smartctl's JSON (`smartctl -j`, smartmontools 7.x, json_format_version 1) read with
 * zod (issue #16). Only the fields outpost shows are checked; the rest is let through.
 * A report that does not parse (truncated, not JSON, a field of the wrong type) is that
 * device's error: never a crash, never a number guessed from half an answer.
 */

/** A device as `smartctl --scan` names it: its path and the `-d` type to open it with. */
export interface SmartDevice {
  readonly name: string;
  readonly type: string;
}

/** What a SMART report says about one device; null where it does not say. */
export interface SmartHealth {
  readonly model: string | null;
  readonly serial: string | null;
  readonly protocol: string | null;
  /** The drive's own overall verdict (`smart_status.passed`). */
  readonly passed: boolean | null;
  readonly temperatureC: number | null;
  /** ATA attribute 5 (Reallocated_Sector_Ct), raw; NVMe drives have none. */
  readonly reallocated: number | null;
  /** ATA attribute 197 (Current_Pending_Sector), raw. */
  readonly pending: number | null;
  readonly powerOnHours: number | null;
}

export type SmartDeviceReading =
  | { readonly device: SmartDevice; readonly health: SmartHealth }
  | { readonly device: SmartDevice; readonly error: string };

/**
 * Device paths and types outpost passes on to smartctl: plain characters only, no `..`.
 * Anything else the scan lists is refused and reported, never run.
 */
const DEVICE_NAME = /^\/dev\/[A-Za-z0-9_][A-Za-z0-9_/.:-]{0,127}$/;
const DEVICE_TYPE = /^[a-z0-9_]{1,32}(,[A-Za-z0-9_/+]{1,32}){0,2}$/;

/** Why a scanned device is not passed to smartctl, or undefined when it may be. */
export function deviceProblem(d: SmartDevice): string | undefined {
  if (!DEVICE_NAME.test(d.name) || d.name.includes('..')) {
    return `refusing device name ${JSON.stringify(d.name.slice(0, 80))}: expected /dev/ and letters, digits, _ / . : -`;
  }
  if (!DEVICE_TYPE.test(d.type)) {
    return `refusing device type ${JSON.stringify(d.type.slice(0, 40))} of ${d.name}: expected a smartctl -d type such as sat, nvme or megaraid,1`;
  }
  return undefined;
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
// Beyond these a sensor is broken or the field means something else: no number at all.
const celsius = z.number().int().min(-40).max(150);

const smartctlHead = z.looseObject({
  exit_status: z.number().int(),
  messages: z.array(z.looseObject({ string: z.string() })).optional(),
});

const scanSchema = z.looseObject({
  smartctl: smartctlHead.optional(),
  devices: z.array(z.looseObject({ name: z.string(), type: z.string() })).default([]),
});

const attribute = z.looseObject({ id: z.number().int(), raw: z.looseObject({ value: count }) });

const reportSchema = z.looseObject({
  smartctl: smartctlHead,
  device: z.looseObject({ protocol: z.string().optional() }).optional(),
  model_name: z.string().optional(),
  serial_number: z.string().optional(),
  smart_status: z.looseObject({ passed: z.boolean().optional() }).optional(),
  temperature: z.looseObject({ current: celsius.optional() }).optional(),
  power_on_time: z.looseObject({ hours: count.optional() }).optional(),
  ata_smart_attributes: z.looseObject({ table: z.array(attribute) }).optional(),
  nvme_smart_health_information_log: z
    .looseObject({ temperature: celsius.optional(), power_on_hours: count.optional() })
    .optional(),
});

/** The devices of `smartctl -j --scan`, or why there are none to trust. */
export function parseScan(text: string): SmartDevice[] | { error: string } {
  const json = parseJson(text, 'the device scan');
  if ('error' in json) return json;
  const r = scanSchema.safeParse(json.value);
  if (!r.success) return { error: `the device scan: ${zodProblem(r.error)}` };
  return r.data.devices.map((d) => ({ name: d.name, type: d.type }));
}

/**
 * `smartctl -j --scan` text (`/dev/sda -d sat # /dev/sda [SAT], ATA device`), as the
 * remote script prints it: the first word and the one after `-d`.
 */
export function parseScanText(text: string): SmartDevice[] {
  const out: SmartDevice[] = [];
  for (const line of text.split('\n')) {
    const [name, flag, type] = line.trim().split(/\s+/);
    if (!name?.startsWith('/dev/')) continue;
    out.push({ name, type: flag === '-d' && type ? type : 'auto' });
  }
  return out;
}

/** The health one device's `smartctl -j -a` output gives, or that device's error. */
export function parseReport(device: SmartDevice, text: string): SmartDeviceReading {
  const json = parseJson(text, `${device.name}'s SMART report`);
  if ('error' in json) return { device, error: json.error };
  const r = reportSchema.safeParse(json.value);
  if (!r.success) return { device, error: `${device.name}: ${zodProblem(r.error)}` };
  const d = r.data;
  const exit = d.smartctl.exit_status;
  // Bits 0 and 1 of smartctl's exit status: bad command line, device could not be opened.
  if ((exit & 0b11) !== 0) {
    const said = d.smartctl.messages?.[0]?.string ?? `exit status ${exit}`;
    return { device, error: `${device.name}: smartctl could not read it: ${said}` };
  }
  const table = d.ata_smart_attributes?.table;
  const raw = (id: number) => table?.find((a) => a.id === id)?.raw.value ?? null;
  const nvme = d.nvme_smart_health_information_log;
  const health: SmartHealth = {
    model: d.model_name ?? null,
    serial: d.serial_number ?? null,
    protocol: d.device?.protocol ?? null,
    passed: d.smart_status?.passed ?? null,
    temperatureC: d.temperature?.current ?? nvme?.temperature ?? null,
    reallocated: raw(5),
    pending: raw(197),
    powerOnHours: d.power_on_time?.hours ?? nvme?.power_on_hours ?? null,
  };
  if (health.passed === null && table === undefined && nvme === undefined) {
    return { device, error: `${device.name}: the report has no SMART data` };
  }
  return { device, health };
}

function parseJson(text: string, what: string): { value: unknown } | { error: string } {
  if (text.trim() === '') return { error: `${what} is empty` };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { error: `${what} is not whole JSON (${why.slice(0, 120)})` };
  }
}

/** The first issue as `path: message`, naming the field smartctl got wrong. */
function zodProblem(e: z.ZodError): string {
  const i = e.issues[0];
  if (!i) return 'invalid';
  const path = i.path.length > 0 ? i.path.join('.') : 'the report';
  return `${path}: ${i.message}`;
}
