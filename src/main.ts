import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { uplinkFromConfig } from '../bridges/uplink/from-config.js';
import { uplinkEntities } from '../bridges/uplink/entities.js';
import type { UplinkBridge } from '../bridges/uplink/uplink-bridge.js';
import { desiredDevices, modelFingerprint, type DiscoveryModel } from '../discovery/desired.js';
import type { PendingAction } from '../discovery/entities/remediation.js';
import { agentDevice } from '../discovery/device.js';
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
import { HeapTrim, exposedGc } from './core/heap-trim.js';
import { Lifecycle, type Component } from './core/lifecycle.js';
import type { Logger } from './core/logger.js';
import { ONLINE, topics } from './core/topics.js';
import { VERSION } from './core/version.js';
import { aclRules } from './mqtt/acl.js';
import { MqttLink } from './mqtt/client.js';
import { useUncachedPacketNumbers } from './mqtt/packet-writer.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { linkOptions, topicRoot } from './mqtt/link-options.js';
import { StatePublisher } from './mqtt/state-publisher.js';
import { watchdogFromConfig } from './collectors/watchdog/index.js';
import { containerExecutor } from './commands/executors/from-config.js';
import { offersAction, offersRestart } from './commands/policy/index.js';
import { Remediation } from './commands/remediation.js';
import { ContainerMonitoring } from './runtime/containers.js';
import { Journal, journalSink, resolveJournalDir } from './store/journal.js';
import { MqttEventSink } from './store/mqtt-event-sink.js';
import type { EventStore } from './store/event-store.js';
import { SqliteEventStore } from './store/sqlite-store.js';
import type { NewEvent } from './core/events.js';
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
  useUncachedPacketNumbers();
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
  const store = openStore(config, log);
  if (store) lifecycle.adopt(component('event-store', noop, () => store.close()));
  let containers: ContainerMonitoring | undefined = undefined;
  let pendingActions: () => readonly PendingAction[] = () => [];
  const discovery = await discoveryPublisher(config, link, states, log, () => ({
    containers,
    pending: pendingActions(),
  }));
  const syncDiscovery = debounce(1000, (complete: boolean) => {
    discovery.sync({ observationOk: complete }).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'discovery sync failed');
    });
  });
  const remediation = await Remediation.create({
    config,
    root,
    mqtt: link,
    clock: systemClock,
    log: log.child({ component: 'remediation' }),
    record: (e) => recordEvent(store, e, log),
    // Over the SSH connection each host's collector keeps: one per host, not two.
    executors: [
      containerExecutor(config, {
        clock: systemClock,
        log,
        runnerFor: (host) => containers?.runnerFor(host),
      }),
    ],
    pendingChanged: () => syncDiscovery(false),
  });
  pendingActions = () => remediation.api.pending();
  containers = new ContainerMonitoring({
    config,
    root,
    states,
    clock: systemClock,
    log,
    record: (e) => {
      remediation.onTrackerEvent(e);
      // Maintenance, a silence or a planned restart keep an alert from being raised.
      const kept = remediation.filterAlert(e);
      if (kept) recordEvent(store, kept, log);
    },
    changed: syncDiscovery,
    agentOk: () => link.connected,
    viewed: (host, key, view, first) => remediation.onContainer(host, key, view, first),
    restartable: (host, name) => offersRestart(config.policy, host, name),
  });

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
    // A host nothing watches yet is the machine the agent runs on (reachable by
    // definition); watched hosts report their reachability through their collectors.
    if (!h.ssh && !h.engine) void states.set(topics.hostAvailability(root, h.id), ONLINE);
  }
  // After the link, so remediation stops (and answers what it holds) before the link does.
  await lifecycle.start(remediation);
  const uplink = store
    ? await startSinks(loaded, { store, link, states, lifecycle, log })
    : undefined;
  if (config.watchdog) {
    // Issue 4: while an uplink-class check is down the uplink holds its sends and reconnects.
    const watchdog = watchdogFromConfig(config.watchdog, {
      states,
      stateTopic: topics.watchdog(root),
      record: (e) => recordEvent(store, e, log),
      uplinkChanged: (up) => (up ? uplink?.resume() : uplink?.pause('watchdog: uplink down')),
      clock: systemClock,
      log,
    });
    await lifecycle.start(watchdog);
  }
  const monitoring = containers;
  lifecycle.adopt(component('containers', noop, () => Promise.resolve(monitoring.stop())));
  // Collectors start together: a host that is down holds its start until its deadline.
  await Promise.all(monitoring.components.map((c) => lifecycle.start(c)));
  await lifecycle.start(new HeapTrim({ clock: systemClock, log, gc: exposedGc() }));
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

/** What the running agent knows beyond its config: observed containers, pending actions. */
export interface Observed {
  readonly containers?: ContainerMonitoring | undefined;
  readonly pending?: readonly PendingAction[];
}

/** What config defines, plus what the agent observed (when given). */
export function discoveryModel(config: Config, observed: Observed = {}): DiscoveryModel {
  return {
    agent: {
      node: config.node.id,
      name: config.node.name,
      swVersion: VERSION,
      configurationUrl: configurationUrl(config),
    },
    hosts: config.hosts.map((h) => ({
      id: h.id,
      name: h.name ?? h.id,
      remote: h.ssh !== undefined || h.engine?.url !== undefined,
      watchesContainers: h.engine !== undefined,
      containers: observed.containers?.containersOf(h.id),
      maintenanceStateTopic: topics.hostMaintenance(topicRoot(config), h.id),
      offersMaintenance: offersAction(config.policy, 'maintenance', h.id),
    })),
    watchdog: config.watchdog && { petting: config.watchdog.device.enabled },
    remediation: {
      pendingTopic: topics.pendingActions(topicRoot(config)),
      pending: observed.pending ?? [],
    },
  };
}

/**
 * The agent's page for Home Assistant's device view: the health endpoint, when it listens
 * where Home Assistant can reach it (not on loopback only).
 */
export function configurationUrl(config: Config): string | undefined {
  if (!config.http.enabled) return undefined;
  const { host, port } = config.http.listen;
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') return undefined;
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host;
  const shown = name.includes(':') ? `[${name}]` : name;
  return `http://${shown}:${port}/api/health/services`;
}

/** Every discovery config the agent publishes for this config and these observations. */
export function desiredDiscovery(config: Config, observed: Observed = {}): DiscoveryConfig[] {
  return [...devicesOf(config, discoveryModel(config, observed))].flat();
}

/** The configs of a model, one device at a time; the uplink's entities join the agent's. */
function* devicesOf(config: Config, model: DiscoveryModel): Generator<DiscoveryConfig[]> {
  const ctx = discoveryContext(config);
  let first = true;
  for (const device of desiredDevices(ctx, model)) {
    if (first && config.uplink) {
      device.push(...uplinkEntities(ctx, agentDevice(ctx.root, model.agent)));
    }
    first = false;
    yield device;
  }
}

/**
 * The event store's consumers, each on its own cursor: the local event stream (HA's
 * alert entity), the uplink to a central broker, the JSON-lines journal. Returns the
 * uplink, for the watchdog to pause.
 */
async function startSinks(
  loaded: LoadedConfig,
  deps: {
    store: EventStore;
    link: MqttLink;
    states: StatePublisher;
    lifecycle: Lifecycle;
    log: Logger;
  },
): Promise<UplinkBridge | undefined> {
  const { config } = loaded;
  const { store, link, states, lifecycle, log } = deps;
  await lifecycle.start(new MqttEventSink({ store, mqtt: link, root: topicRoot(config), log }));
  const uplink = uplinkFromConfig(config, { store, local: link, states, log });
  if (uplink) await lifecycle.start(uplink);
  if (config.journal.enabled) {
    const dir = resolveJournalDir(config.journal.dir, config.data_dir, loaded.file);
    const journal = new Journal({ dir });
    await lifecycle.start(
      journalSink({ store, journal, log: log.child({ component: 'journal' }) }),
    );
  }
  return uplink;
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
  observed: () => Observed = () => ({}),
): Promise<DiscoveryPublisher> {
  const registry = await FileDiscoveryRegistry.open(join(config.data_dir, 'discovery.json'), {
    log,
  });
  return new DiscoveryPublisher({
    mqtt,
    registry,
    desired: () => {
      const model = discoveryModel(config, observed());
      return { fingerprint: modelFingerprint(model), devices: () => devicesOf(config, model) };
    },
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

/** The event store; without one (a read-only data dir) the agent still runs, and says so. */
function openStore(config: Config, log: Logger): EventStore | undefined {
  try {
    return SqliteEventStore.open({
      dataDir: config.data_dir,
      node: config.node.id,
      maxBytes: config.store.max_bytes,
      maxAge: config.store.max_age,
      retention: config.store.retention,
      log: log.child({ component: 'event-store' }),
    });
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'event store unavailable: events are only logged');
    return undefined;
  }
}

function recordEvent(store: EventStore | undefined, e: NewEvent, log: Logger): void {
  if (!store) {
    log.warn({ event: e }, 'event (not stored)');
    return;
  }
  store.append(e).catch((err: unknown) => {
    // The store says why (full disk, read-only); the agent keeps watching.
    log.error({ event: e, err: errorMessage(err) }, 'event not stored');
  });
}

/** Calls `fn` at most once per `ms`; a `true` argument in the window wins. */
function debounce(ms: number, fn: (complete: boolean) => void): (complete: boolean) => void {
  let timer: NodeJS.Timeout | undefined;
  let complete = false;
  return (c) => {
    complete ||= c;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      const arg = complete;
      complete = false;
      fn(arg);
    }, ms);
    timer.unref();
  };
}

function component(name: string, start: () => Promise<void>, stop: () => Promise<void>): Component {
  return { name, start, stop };
}

const noop = (): Promise<void> => Promise.resolve();
