import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { desiredConfigs, type DiscoveryModel } from '../discovery/desired.js';
import { groupByDevice } from '../discovery/device-based.js';
import type { DiscoveryConfig, DiscoveryContext } from '../discovery/entity.js';
import { agentScope } from '../discovery/ids.js';
import { DiscoveryPublisher } from '../discovery/publisher.js';
import { FileDiscoveryRegistry } from '../discovery/registry.js';
import { scanRetained } from '../discovery/retained-scan.js';
import { ownConfigFilter } from '../discovery/topics.js';
import type { LoadedConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { systemClock } from './core/clock.js';
import { OutpostError, errorMessage } from './core/errors.js';
import { Lifecycle, type Component } from './core/lifecycle.js';
import type { Logger } from './core/logger.js';
import { ONLINE, topics } from './core/topics.js';
import { VERSION } from './core/version.js';
import { aclRules } from './mqtt/acl.js';
import { MqttLink } from './mqtt/client.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { linkOptions, topicRoot } from './mqtt/link-options.js';
import { StatePublisher } from './mqtt/state-publisher.js';
import type { MqttPublisher } from './mqtt/types.js';

/** A running agent: what `outpost run` holds until a signal arrives. */
export interface RunningAgent {
  readonly link: MqttLink;
  readonly broker: EmbeddedBroker | undefined;
  readonly discovery: DiscoveryPublisher;
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
      `data_dir: cannot create ${config.data_dir}: ${errorMessage(err)}`,
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
  const states = new StatePublisher({
    mqtt: link,
    log,
    clock: systemClock,
    heartbeatMs: config.discovery.heartbeat,
  });
  const discovery = await discoveryPublisher(config, link, states, log);

  // Discovery first, so its HA-birth subscription is in place when the link connects.
  await lifecycle.start(discovery, { essential: true });
  await lifecycle.start(states);
  await lifecycle.start(
    component(
      'mqtt',
      () => link.start(),
      () => link.stop(),
    ),
    {
      essential: true,
    },
  );
  for (const h of config.hosts) {
    // The machine the agent runs on is reachable by definition; remote hosts report
    // through their own collectors.
    if (!h.ssh && !h.engine?.url) void states.set(topics.hostAvailability(root, h.id), ONLINE);
  }
  void removeStaleDiscovery(config, link, discovery, log);

  log.info({ node: config.node.id, availability: topics.availability(root) }, 'outpost running');
  return { link, broker, discovery, stop: () => lifecycle.stopAll() };
}

/** Everything discovery needs to know about this config. */
export function discoveryContext(config: Config): DiscoveryContext {
  return {
    prefix: config.mqtt.discovery_prefix,
    root: topicRoot(config),
    origin: { name: 'outpost', sw_version: VERSION },
  };
}

/** What config alone defines; collectors add what they observe. */
export function discoveryModel(config: Config): DiscoveryModel {
  return {
    agent: { node: config.node.id, name: config.node.name, swVersion: VERSION },
    hosts: config.hosts.map((h) => ({
      id: h.id,
      name: h.name ?? h.id,
      remote: h.ssh !== undefined || h.engine?.url !== undefined,
    })),
  };
}

/** Every discovery config the agent publishes for this config. */
export function desiredDiscovery(config: Config): DiscoveryConfig[] {
  return desiredConfigs(discoveryContext(config), discoveryModel(config));
}

/** The discovery messages as they go out: per entity, or grouped per device. */
export function discoveryMessages(
  config: Config,
): { topic: string; payload: unknown; retain: true; qos: 1 }[] {
  const configs = desiredDiscovery(config);
  if (config.discovery.device_based) return groupByDevice(configs);
  return configs.map(({ topic, payload, retain, qos }) => ({ topic, payload, retain, qos }));
}

export async function discoveryPublisher(
  config: Config,
  mqtt: MqttPublisher,
  states: StatePublisher | undefined,
  log: Logger,
): Promise<DiscoveryPublisher> {
  const registry = await FileDiscoveryRegistry.open(join(config.data_dir, 'discovery.json'), {
    log,
  });
  return new DiscoveryPublisher({
    mqtt,
    registry,
    desired: () => desiredDiscovery(config),
    currentStates: () => states?.current() ?? [],
    clock: systemClock,
    log: log.child({ component: 'discovery' }),
    prefix: config.mqtt.discovery_prefix,
    node: config.node.id,
    rate: config.discovery.rate,
    pruneAfter: config.discovery.prune_after,
    deviceBased: config.discovery.device_based,
  });
}

/**
 * Clears retained discovery configs under this node that the agent no longer produces
 * and never recorded (an older install, a lost registry). Runs once, after connecting.
 */
export async function removeStaleDiscovery(
  config: Config,
  link: MqttLink,
  discovery: DiscoveryPublisher,
  log: Logger,
): Promise<string[]> {
  try {
    if (!link.connected) await new Promise<void>((resolve) => link.onConnect(resolve));
    const filter = ownConfigFilter(config.mqtt.discovery_prefix, agentScope(config.node.id));
    return await discovery.cleanupFromBroker(await scanRetained(link, filter));
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'stale discovery cleanup failed');
    return [];
  }
}

function component(name: string, start: () => Promise<void>, stop: () => Promise<void>): Component {
  return { name, start, stop };
}
