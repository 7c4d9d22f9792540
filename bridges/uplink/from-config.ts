import type { Config, UplinkConfig } from '../../src/config/schema.js';
import type { Clock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { MqttLink, type MqttLinkOptions } from '../../src/mqtt/client.js';
import { clientTlsOptions, topicRoot } from '../../src/mqtt/link-options.js';
import type { MqttPublisher } from '../../src/mqtt/types.js';
import type { EventStore } from '../../src/store/event-store.js';
import { defaultTopicPrefix, TopicMap } from './topic-map.js';
import { UplinkBridge, type StateSink } from './uplink-bridge.js';

/** The upstream prefix in effect: `uplink.topic_prefix`, else `sites/<node>`. */
export function uplinkPrefix(config: Config, uplink: UplinkConfig): string {
  return uplink.topic_prefix ?? defaultTopicPrefix(config.node.id);
}

/**
 * The uplink's own connection: url, credentials and TLS as for an external broker, its
 * availability (online, and offline as its last will) mapped under the prefix so the
 * central side sees whether the site is reachable.
 */
export function uplinkLinkOptions(config: Config, log: Logger): MqttLinkOptions | undefined {
  const u = config.uplink;
  if (!u) return undefined;
  const m = config.mqtt;
  const tls = u.client_tls;
  const map = new TopicMap(topicRoot(config), uplinkPrefix(config, u));
  return {
    url: u.url,
    clientId: u.client_id ?? `outpost-${config.node.id}-uplink`,
    username: u.username,
    password: u.password,
    ...clientTlsOptions(tls),
    protocol: u.protocol,
    availabilityTopic: map.availability,
    keepaliveS: Math.max(1, Math.round(m.keepalive / 1000)),
    reconnectMinMs: m.reconnect_min,
    reconnectMaxMs: m.reconnect_max,
    // Events never wait in this queue (the bridge holds them while the link is down); it
    // only carries forwarded states, which it keeps one per topic.
    queueLimit: Math.max(m.queue_limit, u.window),
    log: log.child({ link: 'uplink' }),
  };
}

export interface UplinkDeps {
  store: EventStore;
  /** The agent's local link: the source of forwarded states. */
  local: MqttPublisher;
  /** Where the uplink's own state goes (the agent's StatePublisher). */
  states?: StateSink;
  log: Logger;
  clock?: Clock;
}

/** The uplink bridge for this config, or undefined when `uplink` is not configured. */
export function uplinkFromConfig(config: Config, deps: UplinkDeps): UplinkBridge | undefined {
  const u = config.uplink;
  const linkOpts = uplinkLinkOptions(config, deps.log);
  if (!u || !linkOpts) return undefined;
  return new UplinkBridge({
    store: deps.store,
    upstream: new MqttLink(linkOpts),
    root: topicRoot(config),
    topicPrefix: uplinkPrefix(config, u),
    limits: { messagesPerS: u.max_rate, bytesPerS: u.max_bytes_rate },
    window: u.window,
    states: deps.states,
    local: deps.local,
    forwardStates: u.forward_states,
    clock: deps.clock,
    log: deps.log,
  });
}
