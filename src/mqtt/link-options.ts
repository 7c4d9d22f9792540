import { readFileSync } from 'node:fs';
import type { BrokerConfig, Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { topics, type TopicRoot } from '../core/topics.js';
import type { MqttLinkOptions } from './client.js';
import type { LocalEndpoint } from './embedded-broker.js';

export function topicRoot(config: Config): TopicRoot {
  return { base: config.mqtt.base_topic, node: config.node.id };
}

/**
 * The agent's MQTT connection: to its own embedded broker over loopback (3.1.1, the only
 * version aedes speaks), or to the configured external broker.
 */
/** The client id of the agent's connection to its broker (`mqtt.client_id`, else `outpost-<node>`). */
export function agentClientId(config: Config): string {
  return config.mqtt.client_id ?? `outpost-${config.node.id}`;
}

export function linkOptions(
  config: Config,
  log: Logger,
  embedded?: LocalEndpoint,
): MqttLinkOptions {
  const m = config.mqtt;
  const common = {
    clientId: agentClientId(config),
    availabilityTopic: topics.availability(topicRoot(config)),
    keepaliveS: Math.max(1, Math.round(m.keepalive / 1000)),
    reconnectMinMs: m.reconnect_min,
    reconnectMaxMs: m.reconnect_max,
    queueLimit: m.queue_limit,
    log,
  };
  if (embedded) {
    return {
      ...common,
      url: embedded.url,
      username: embedded.username,
      password: embedded.password,
      protocol: '3.1.1',
    };
  }
  const b = config.broker;
  return {
    ...common,
    url: b.url!,
    username: b.username,
    password: b.password,
    ...clientTlsOptions(b.client_tls),
    protocol: b.protocol,
  };
}

/** A `client_tls` section as the client's TLS options, the files read now. */
export function clientTlsOptions(
  tls: BrokerConfig['client_tls'],
): Pick<MqttLinkOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'> {
  return {
    ca: tls?.ca_file ? readFileSync(tls.ca_file) : undefined,
    cert: tls?.cert_file ? readFileSync(tls.cert_file) : undefined,
    key: tls?.key_file ? readFileSync(tls.key_file) : undefined,
    rejectUnauthorized: tls?.reject_unauthorized ?? true,
  };
}
