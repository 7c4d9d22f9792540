import { EVENT_TYPES, type KnownEventType } from '../../src/core/events.js';

const REMEDIATION = new Set<KnownEventType>([
  'remediation_pending',
  'remediation_started',
  'remediation_completed',
  'remediation_failed',
]);
/** The store's own bookkeeping, not alerts. */
const INTERNAL = new Set<KnownEventType>(['events_dropped', 'event_store_reset']);

/** Event types (src/core/events.ts) that the alerts event entity accepts. */
export const ALERT_EVENT_TYPES = EVENT_TYPES.filter((t) => !REMEDIATION.has(t) && !INTERNAL.has(t));

/** The alert types plus those in `raised` the list lacks, in a stable order. */
export function alertTypes(raised: readonly string[]): string[] {
  const known = new Set<string>(ALERT_EVENT_TYPES);
  return [...ALERT_EVENT_TYPES, ...new Set(raised.filter((t) => !known.has(t)))];
}

/** Event types the remediation outcome entity accepts. */
export const REMEDIATION_EVENT_TYPES = EVENT_TYPES.filter((t) => REMEDIATION.has(t));

/**
 * Turns an outpost event (`{type, severity, subject, ...}` on the events topic) into HA's
 * event payload `{"event_type": ...}`, or into nothing for types this entity does not
 * list: HA ignores an empty rendering quietly but warns on an unknown event type
 * (homeassistant/components/mqtt/event.py). Every other key of the payload becomes an
 * attribute of the event: the alert's words (`title`, `message`) and its incident's id and
 * opening time (issue #14), so a notification can say what happened and group an outage.
 */
export function alertEventTemplate(types: readonly string[]): string {
  const t = "value_json.get('type')";
  const payload =
    `{'event_type': ${t}, 'severity': value_json.get('severity'), ` +
    `'subject': value_json.get('subject'), 'id': value_json.get('id'), ` +
    `'title': d.get('title'), 'message': d.get('message'), ` +
    `'incident_id': i.get('id'), 'incident_opened_at': i.get('opened_at')}`;
  // `or {}`: an event without data, or without an incident, still renders.
  const vars = "{% set d = value_json.get('data') or {} %}{% set i = d.get('incident') or {} %}";
  return `{% if ${t} in ${JSON.stringify(types)} %}${vars}{{ ${payload} | tojson }}{% endif %}`;
}
