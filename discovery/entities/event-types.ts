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
 * (homeassistant/components/mqtt/event.py).
 */
export function alertEventTemplate(types: readonly string[]): string {
  const t = "value_json.get('type')";
  const payload =
    `{'event_type': ${t}, 'severity': value_json.get('severity'), ` +
    `'subject': value_json.get('subject'), 'id': value_json.get('id')}`;
  return `{% if ${t} in ${JSON.stringify(types)} %}{{ ${payload} | tojson }}{% endif %}`;
}
