/**
 * InfluxDB line protocol, written directly (issue 19 point 4): the sink turns each stored
 * event into its lines without building `IPoint` objects for the `influx` package to take
 * apart again. The escaping is the `influx` package's (`escape.measurement`, `escape.tag`,
 * `escape.quoted`), with what its `writePoints` leaves out put right:
 *
 * - measurement: `,` and space escaped (its `writePoints` writes the name as it is);
 * - tag keys, tag values, field keys: `,`, `=` and space escaped; a backslash is written as
 *   it is (influxd 1.x keeps it);
 * - string field values: in double quotes, `"` and `\` escaped (its escaper also doubles
 *   the backslash of `\'` once more, which InfluxDB then stores doubled: not here); a
 *   newline is kept, influxd stores it;
 * - a newline (or carriage return) in a measurement, tag or field key, which InfluxDB 1.x
 *   cannot store there and which would end the line, is written as the two characters
 *   `\n` (`\r`): one event can never become two points;
 * - numbers as the `influx` package writes them (`String(n)`: floats, no `i` suffix, so a
 *   database it filled keeps its field types), booleans as `true` / `false`.
 *
 * What InfluxDB 1.x cannot take at all (a tag value ending in a backslash) it refuses with
 * a 400, and the point writer sets that one point aside.
 */

export type FieldValue = string | number | boolean;

const NEEDS_MEASUREMENT = /[, \n\r]/;
const MEASUREMENT_CHARS = /[, \n\r]/g;
const NEEDS_TAG = /[,= \n\r]/;
const TAG_CHARS = /[,= \n\r]/g;
const NEEDS_QUOTING = /["\\]/;
const QUOTED_CHARS = /["\\]/g;

function escapeChar(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  return `\\${c}`;
}

/** A measurement name. */
export function escapeMeasurement(s: string): string {
  return NEEDS_MEASUREMENT.test(s) ? s.replace(MEASUREMENT_CHARS, escapeChar) : s;
}

/** A tag key, tag value or field key. */
export function escapeTag(s: string): string {
  return NEEDS_TAG.test(s) ? s.replace(TAG_CHARS, escapeChar) : s;
}

/** A string field value, quoted. */
export function quoteString(s: string): string {
  return NEEDS_QUOTING.test(s) ? `"${s.replace(QUOTED_CHARS, '\\$&')}"` : `"${s}"`;
}

/** A field value as the `influx` package writes it without a schema. */
export function fieldValue(v: FieldValue): string {
  return typeof v === 'string' ? quoteString(v) : String(v);
}

/**
 * One line: measurement, tags (in the order given; empty values left out, as InfluxDB
 * has no empty tag), fields sorted by key (as the `influx` package sorts them) and the
 * timestamp. Undefined when there is no field: InfluxDB has no point without one.
 */
export function line(
  measurement: string,
  tags: Readonly<Record<string, string>>,
  fields: Readonly<Record<string, FieldValue>>,
  timestamp: string,
): string | undefined {
  const keys = Object.keys(fields).sort();
  if (keys.length === 0) return undefined;
  let out = escapeMeasurement(measurement);
  for (const k in tags) {
    const v = tags[k]!;
    if (v !== '') out += `,${escapeTag(k)}=${escapeTag(v)}`;
  }
  let sep = ' ';
  for (const k of keys) {
    out += `${sep}${escapeTag(k)}=${fieldValue(fields[k]!)}`;
    sep = ',';
  }
  return `${out} ${timestamp}`;
}

/** What a line names (for a point InfluxDB refused): measurement, tags, timestamp. */
export interface LineHead {
  measurement: string;
  tags: Record<string, string>;
  timestamp: string;
}

/** Reads back the measurement, tags and timestamp of a line this file wrote. */
export function parseLine(text: string): LineHead {
  let i = 0;
  const token = (stops: string): string => {
    let out = '';
    while (i < text.length && !stops.includes(text[i]!)) {
      if (text[i] === '\\' && i + 1 < text.length && ',= nr'.includes(text[i + 1]!)) {
        const c = text[i + 1]!;
        out += c === 'n' ? '\n' : c === 'r' ? '\r' : c;
        i += 2;
      } else out += text[i++];
    }
    return out;
  };
  const measurement = token(', ');
  const tags: Record<string, string> = {};
  while (text[i] === ',') {
    i++;
    const k = token('=');
    i++;
    tags[k] = token(', ');
  }
  const timestamp = text.slice(text.lastIndexOf(' ') + 1);
  return { measurement, tags, timestamp };
}
