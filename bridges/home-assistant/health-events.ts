import { alertData, type NewEvent, type Severity } from '../../src/core/events.js';
import { spokenDuration } from '../../src/core/spoken-duration.js';

/**
 * Home Assistant's health as alerts (issue 18, point 2): each check is one subject under
 * `home_assistant/…`, an outage of it one incident, and every event says in plain words
 * what is wrong ("3 Home Assistant integrations failed to load: Zigbee Home Automation
 * (setup_retry), …").
 */

/** The checks, each with its subject, its alert and its recovery. */
export const HA_CHECKS = {
  websocket: { type: 'ha_websocket_dead', recovered: 'ha_websocket_restored', severity: 'error' },
  auth: { type: 'ha_auth_invalid', recovered: 'ha_auth_restored', severity: 'error' },
  integrations: {
    type: 'ha_integration_failed',
    recovered: 'ha_integrations_recovered',
    severity: 'warning',
  },
  unavailable: {
    type: 'ha_entities_unavailable',
    recovered: 'ha_entities_available',
    severity: 'warning',
  },
  updates: { type: 'ha_update_available', recovered: 'ha_updates_installed', severity: 'info' },
} as const satisfies Record<string, { type: string; recovered: string; severity: Severity }>;

export type HaCheck = keyof typeof HA_CHECKS;

/** Every event type the bridge raises (HA's Alerts entity lists them). */
export const HA_EVENT_TYPES = Object.values(HA_CHECKS).flatMap((c) => [c.type, c.recovered]);

export function checkSubject(check: HaCheck): string {
  return `home_assistant/${check}`;
}

/** What one check found wrong: a summary line, and the names behind it (bounded). */
export interface Finding {
  readonly count: number;
  readonly names: readonly string[];
  /** Extra fields for `data`. */
  readonly data?: Record<string, unknown>;
}

/** The alert of a check that found something. */
export function problemEvent(check: HaCheck, f: Finding, at: number, downForMs = 0): NewEvent {
  const c = HA_CHECKS[check];
  const list = listed(f);
  const text = {
    websocket: {
      title: 'Home Assistant is not answering',
      message: `Home Assistant's websocket API has not answered for ${spokenDuration(downForMs)} while its host is up${list ? `: ${list}` : ''}`,
    },
    auth: {
      title: 'Home Assistant refused the token',
      message:
        'Home Assistant refused the long-lived access token: the bridge stopped connecting. Make a new token in Home Assistant and restart the agent with it',
    },
    integrations: {
      title: `${plural(f.count, 'Home Assistant integration')} failed to load`,
      message: `${plural(f.count, 'integration')} failed to load: ${list}`,
    },
    unavailable: {
      title: `${plural(f.count, 'Home Assistant entity', 'Home Assistant entities')} unavailable`,
      message: `${plural(f.count, 'entity', 'entities')} unavailable for longer than ${spokenDuration(Number(f.data?.after_ms ?? 0))}: ${list}`,
    },
    updates: {
      title: `${plural(f.count, 'Home Assistant update')} available`,
      message: `${plural(f.count, 'update')} available: ${list}`,
    },
  }[check];
  return {
    type: c.type,
    severity: c.severity,
    subject: checkSubject(check),
    ts: at,
    data: alertData({ check, count: f.count, names: [...f.names], ...f.data }, text),
  };
}

/** The recovery of a check whose problem is gone. */
export function recoveryEvent(check: HaCheck, at: number, openForMs: number): NewEvent {
  const c = HA_CHECKS[check];
  const text = {
    websocket: 'Home Assistant answers again',
    auth: 'Home Assistant accepts the token again',
    integrations: 'Every Home Assistant integration loaded',
    unavailable: 'Home Assistant entities are available again',
    updates: 'Home Assistant updates installed',
  }[check];
  return {
    type: c.recovered,
    severity: 'info',
    subject: checkSubject(check),
    ts: at,
    data: alertData(
      { check, count: 0, names: [] },
      { title: text, message: `${text} (after ${spokenDuration(openForMs)})` },
    ),
  };
}

function listed(f: Finding): string {
  const more = f.count - f.names.length;
  return f.names.join(', ') + (more > 0 ? ` and ${more} more` : '');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
