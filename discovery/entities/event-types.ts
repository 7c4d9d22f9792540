/** Event types (DESIGN.md "Topics") that HA event entities accept. */
export const ALERT_EVENT_TYPES = [
  'container_down',
  'container_recovered',
  'container_unhealthy',
  'disk_pressure',
  'disk_recovered',
  'watchdog_unhealthy',
  'watchdog_recovered',
  'uplink_lost',
  'uplink_restored',
  'backup_succeeded',
  'backup_failed',
  'backup_stale',
  'host_unreachable',
  'host_reachable',
  'ha_websocket_dead',
  'ha_integration_failed',
] as const;

export const REMEDIATION_EVENT_TYPES = [
  'remediation_pending',
  'remediation_started',
  'remediation_completed',
  'remediation_failed',
] as const;

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
