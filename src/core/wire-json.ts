import type { Severity } from './events.js';

/**
 * The wire form of an event (events.ts `toWireEvent`, DESIGN.md "Topics") written out as
 * JSON from its parts, with `data` as the JSON text the store keeps: byte for byte what
 * `JSON.stringify(toWireEvent(e))` gives, without parsing the data and stringifying it again
 * (issue 15: a replay's per-event parse + stringify was most of its garbage). The key order
 * is toWireEvent's; strings are quoted by JSON.stringify itself, so escapes are the same.
 */

/** A stored event's fields for the wire, `data` still as its stored JSON text. */
export interface WireParts {
  id: string;
  ts: string;
  node: string;
  type: string;
  severity: Severity;
  subject: string;
  /** The data object's JSON text as JSON.stringify wrote it. */
  dataJson: string;
}

/** Quoted forms of the few strings that repeat on every event (node, type, severity). */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 1024;

function quoteRepeated(s: string): string {
  let q = QUOTED.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    // Bounded: node names and event types are few; anything beyond is quoted each time.
    if (QUOTED.size < QUOTED_MAX) QUOTED.set(s, q);
  }
  return q;
}

/** `JSON.stringify(toWireEvent(e))` for the event these parts describe. */
export function wireJson(p: WireParts): string {
  return (
    `{"id":${JSON.stringify(p.id)},"ts":${JSON.stringify(p.ts)},` +
    `"node":${quoteRepeated(p.node)},"type":${quoteRepeated(p.type)},` +
    `"severity":${quoteRepeated(p.severity)},"subject":${JSON.stringify(p.subject)},` +
    `"data":${p.dataJson}}`
  );
}
