import { hostname } from 'node:os';
import { join } from 'node:path';
import { offersAction } from '../src/commands/policy/index.js';
import type { Config } from '../src/config/schema.js';
import { systemClock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { topics } from '../src/core/topics.js';
import { VERSION } from '../src/core/version.js';
import type { MqttLink } from '../src/mqtt/client.js';
import { topicRoot } from '../src/mqtt/link-options.js';
import type { StatePublisher } from '../src/mqtt/state-publisher.js';
import type { MqttPublisher } from '../src/mqtt/types.js';
import { groupByDevice } from './device-based.js';
import { remediationFamily, type PendingAction } from './entities/remediation.js';
import { silenceFamily } from './entities/silence.js';
import type { DiscoveryConfig, DiscoveryContext } from './entity.js';
import type { EntityFamily } from './family.js';
import { hostDeviceName } from './host-name.js';
import { agentScope } from './ids.js';
import { desiredDevices, modelDevices, type DiscoveryModel } from './model.js';
import { DiscoveryPublisher } from './publisher.js';
import {
  DISCOVERY_DB_FILE,
  MemoryDiscoveryRegistry,
  SqliteDiscoveryRegistry,
  type DiscoveryRegistry,
} from './registry.js';
import { LEGACY_REGISTRY_FILE } from './registry-json.js';
import { scanRetained } from './retained-scan.js';
import { ownConfigFilter } from './topics.js';

/**
 * The agent's discovery model from its config: the agent device, a device per host, and
 * the entity families the composition root hands over (each capability's, remediation's,
 * the uplink's). Nothing here knows which capabilities exist.
 */

/** Everything discovery needs to know about this config. */
export function discoveryContext(config: Config): DiscoveryContext {
  return {
    prefix: config.mqtt.discovery_prefix,
    root: topicRoot(config),
    origin: { name: 'outpost', sw_version: VERSION },
  };
}

/** What the composition root hands discovery: every family, every alert type raised. */
export interface AgentEntities {
  readonly families: readonly EntityFamily[];
  readonly alerts: readonly string[];
}

/** The model for this config and these entities. */
export function discoveryModel(config: Config, entities: AgentEntities): DiscoveryModel {
  const root = topicRoot(config);
  return {
    agent: {
      node: config.node.id,
      name: config.node.name,
      swVersion: VERSION,
      configurationUrl: configurationUrl(config),
    },
    hosts: config.hosts.map((h) => ({
      id: h.id,
      name: hostDeviceName(h, config.hosts, hostname()),
      // A host without `ssh` is local whatever its engine (docs/configuration.md, `hosts[].ssh`): only an
      // SSH host's entities also wait for the host's own availability.
      remote: h.ssh !== undefined,
      alsoOwns: [topics.hostMaintenance(root, h.id), topics.hostSilence(root, h.id)],
    })),
    families: entities.families,
    alerts: entities.alerts,
  };
}

/**
 * Remediation's entities: pending actions with their buttons on the agent, a maintenance
 * switch on each host where the policy would act on one.
 */
export function remediationEntityFamily(
  config: Config,
  pending: readonly PendingAction[],
): EntityFamily {
  const root = topicRoot(config);
  const maintenance = config.hosts
    .filter((h) => offersAction(config.policy, 'maintenance', h.id))
    .map((h) => ({ host: h.id, stateTopic: topics.hostMaintenance(root, h.id) }));
  return remediationFamily({ pendingTopic: topics.pendingActions(root), pending }, maintenance);
}

/** An "Alerts silenced" switch on each host where the policy would act on a silence of it. */
export function silenceEntityFamily(config: Config): EntityFamily {
  const root = topicRoot(config);
  return silenceFamily(
    config.hosts
      .filter((h) => offersAction(config.policy, 'silence', h.id))
      .map((h) => ({
        host: h.id,
        stateTopic: topics.hostSilence(root, h.id),
        forMs: config.remediation.silence_for,
      })),
  );
}

/**
 * The agent's page for Home Assistant's device view: the status page, when it listens
 * where Home Assistant can reach it (not on loopback only). Not the health API: off
 * loopback it needs a bearer token, which a browser following the link does not send.
 */
export function configurationUrl(config: Config): string | undefined {
  if (!config.http.enabled || !config.http.status_page) return undefined;
  const { host, port } = config.http.listen;
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') return undefined;
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host;
  const shown = name.includes(':') ? `[${name}]` : name;
  return `http://${shown}:${port}/status/`;
}

/** Every discovery config the agent publishes for this config and these entities. */
export function desiredDiscovery(config: Config, entities: AgentEntities): DiscoveryConfig[] {
  return [...desiredDevices(discoveryContext(config), discoveryModel(config, entities))].flat();
}

/** The discovery messages as they go out: per entity, or grouped per device. */
export function discoveryMessages(
  config: Config,
  entities: AgentEntities,
): { topic: string; payload: unknown; retain: true; qos: 1 }[] {
  const configs = desiredDiscovery(config, entities);
  if (config.discovery.device_based) return groupByDevice(configs);
  return configs.map(({ topic, payload, retain, qos }) => ({ topic, payload, retain, qos }));
}

/** The publisher for this config; `entities` is asked once per discovery round. */
export async function discoveryPublisher(
  config: Config,
  mqtt: MqttPublisher,
  states: StatePublisher | undefined,
  log: Logger,
  entities: () => AgentEntities,
): Promise<DiscoveryPublisher> {
  const registry = await openRegistry(config, log);
  const ctx = discoveryContext(config);
  return new DiscoveryPublisher({
    mqtt,
    registry,
    desired: () => ({ devices: modelDevices(ctx, discoveryModel(config, entities())) }),
    currentStates: () => states?.current() ?? [],
    clock: systemClock,
    log: log.child({ component: 'discovery' }),
    prefix: config.mqtt.discovery_prefix,
    node: config.node.id,
    rate: config.discovery.rate,
    pruneAfter: config.discovery.prune_after,
    deviceBased: config.discovery.device_based,
    birthCooldownMs: config.discovery.birth_cooldown,
  });
}

/**
 * The registry in `<data_dir>/discovery.db`, with an older version's `discovery.json` moved
 * in. One that cannot be opened leaves discovery running on one kept in memory: a restart
 * then republishes every config, which Home Assistant takes as is.
 */
async function openRegistry(config: Config, log: Logger): Promise<DiscoveryRegistry> {
  const path = join(config.data_dir, DISCOVERY_DB_FILE);
  try {
    return await SqliteDiscoveryRegistry.open(path, {
      log,
      migrateFrom: join(config.data_dir, LEGACY_REGISTRY_FILE),
    });
  } catch (err) {
    log.error(
      { path, err: errorMessage(err) },
      'discovery registry cannot be opened; keeping it in memory (a restart republishes)',
    );
    return new MemoryDiscoveryRegistry();
  }
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
