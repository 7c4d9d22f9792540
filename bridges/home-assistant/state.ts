import type { LinkStatus } from './link.js';

/**
 * The bridge's retained state on `<base>/<node>/home_assistant` (snake_case: MQTT JSON):
 * its own link and what it last saw of Home Assistant's health. The entities in
 * entities.ts read it (HA_FIELDS); lists are bounded (`offline.max_listed`).
 */
export interface HaBridgeState {
  connected: boolean;
  status: LinkStatus;
  since: string;
  ha_version: string | null;
  last_error: string | null;
  /** HA is restarting on purpose (its own stop/start, or a planned container restart). */
  restarting: boolean;
  failed_integrations: number;
  failed_integration_list: string[];
  unavailable_entities: number;
  unavailable_entity_list: string[];
  updates: number;
  update_list: string[];
  /** Notify services Home Assistant does not have (one error each, not one per message). */
  missing_notify_services: string[];
  /** Notifications waiting in the event store for HA. */
  notify_backlog: number;
}

/** Fields the entities read (checked against HaBridgeState). */
export const HA_FIELDS = {
  connected: 'connected',
  restarting: 'restarting',
  failedIntegrations: 'failed_integrations',
  unavailable: 'unavailable_entities',
  updates: 'updates',
} as const satisfies Record<string, keyof HaBridgeState>;
