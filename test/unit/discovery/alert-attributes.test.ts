import { describe, expect, it } from 'vitest';
import { alertEventTemplate } from '../../../discovery/entities/event-types.js';

/**
 * The Alerts event entity passes an alert's words and incident on as event attributes
 * (issue #14). Checked against Jinja2 by hand (HA renders it with `tojson`): an event
 * without data or incident renders them as null, an unlisted type renders nothing.
 */
describe('the alerts event template', () => {
  it('adds title, message, incident id and opening time to the event payload', () => {
    const t = alertEventTemplate(['container_down']);
    expect(t).toBe(
      `{% if value_json.get('type') in ["container_down"] %}` +
        `{% set d = value_json.get('data') or {} %}{% set i = d.get('incident') or {} %}` +
        `{{ {'event_type': value_json.get('type'), 'severity': value_json.get('severity'), ` +
        `'subject': value_json.get('subject'), 'id': value_json.get('id'), ` +
        `'title': d.get('title'), 'message': d.get('message'), ` +
        `'incident_id': i.get('id'), 'incident_opened_at': i.get('opened_at')} | tojson }}` +
        `{% endif %}`,
    );
  });
});
