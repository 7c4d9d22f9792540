import type { CapabilityModule } from '../../src/capabilities/capability.js';
import { topicRoot } from '../../src/mqtt/link-options.js';
import { homeAssistantFamily } from './entities.js';
import { HA_EVENT_TYPES } from './health-events.js';
import { HA_INCIDENT_KIND } from './health-watch.js';

/**
 * The Home Assistant bridge (issue 18): Home Assistant's own health on its websocket API,
 * alerts out through its notify services, and approvals from Telegram and the companion
 * app with the presser's identity. Optional: without a `home_assistant` section it is off.
 */
export const homeAssistantModule: CapabilityModule = {
  name: 'home_assistant',
  events: HA_EVENT_TYPES,
  async create(ctx) {
    const cfg = ctx.config.home_assistant;
    if (!cfg) {
      // Turned off with an outage open: nothing would ever close it.
      for (const i of ctx.incidents.list(HA_INCIDENT_KIND)) ctx.incidents.close(i.kind, i.subject);
      return undefined;
    }
    // The bridge's runtime only with the section.
    const { HomeAssistantBridge } = await import('./bridge.js');
    // The token is read from the environment at each connection, never from the config.
    const bridge = new HomeAssistantBridge(ctx, cfg, (name) => process.env[name]);
    return {
      name: 'home_assistant',
      components: bridge.components,
      entities: () => homeAssistantFamily(ctx.root, { url: cfg.url, version: bridge.version }),
      health: { path: 'home_assistant', report: () => bridge.link.state },
      stop: () => bridge.stop(),
    };
  },
  entities: (config) =>
    config.home_assistant
      ? homeAssistantFamily(topicRoot(config), { url: config.home_assistant.url })
      : undefined,
};
