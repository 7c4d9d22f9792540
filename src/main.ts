import { mkdirSync } from 'node:fs';
import type { LoadedConfig } from './config/load.js';
import { OutpostError } from './core/errors.js';
import { Lifecycle, type Component } from './core/lifecycle.js';
import type { Logger } from './core/logger.js';
import { VERSION } from './core/version.js';
import { aclRules } from './mqtt/acl.js';
import { MqttLink } from './mqtt/client.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { linkOptions, topicRoot } from './mqtt/link-options.js';
import { topics } from './core/topics.js';

/** A running agent: what `outpost run` holds until a signal arrives. */
export interface RunningAgent {
  readonly link: MqttLink;
  readonly broker: EmbeddedBroker | undefined;
  stop(): Promise<void>;
}

/**
 * The composition root (STYLE.md §1): builds every component from the frozen config and
 * starts them in order; `stop` stops them in reverse.
 */
export async function startAgent(loaded: LoadedConfig, log: Logger): Promise<RunningAgent> {
  const { config } = loaded;
  const root = topicRoot(config);
  const lifecycle = new Lifecycle(log);
  log.info(
    { version: VERSION, node: config.node.id, config: loaded.file, broker: config.broker.mode },
    'outpost starting',
  );
  try {
    mkdirSync(config.data_dir, { recursive: true });
  } catch (err) {
    throw new OutpostError(
      'CONFIG_INVALID',
      `data_dir: cannot create ${config.data_dir}: ${(err as Error).message}`,
    );
  }

  let broker: EmbeddedBroker | undefined;
  if (config.broker.mode === 'embedded') {
    broker = new EmbeddedBroker({
      config: config.broker,
      dataDir: config.data_dir,
      acl: aclRules(config.mqtt.base_topic, config.node.id, config.mqtt.discovery_prefix),
      availabilityTopic: topics.availability(root),
      log,
    });
    await lifecycle.start(broker, { essential: true });
  }

  const link = new MqttLink(linkOptions(config, log, broker?.localEndpoint()));
  const linkComponent: Component = {
    name: 'mqtt',
    start: () => link.start(),
    stop: () => link.stop(),
  };
  await lifecycle.start(linkComponent, { essential: true });

  log.info({ node: config.node.id, availability: topics.availability(root) }, 'outpost running');
  return {
    link,
    broker,
    stop: () => lifecycle.stopAll(),
  };
}

/** Every discovery config the agent publishes for this config (wired to discovery/ below). */
export function desiredDiscovery(
  _config: import('./config/schema.js').Config,
): { topic: string; payload: unknown; retain: boolean; qos: number }[] {
  return [];
}
