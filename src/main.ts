import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { uplinkFamily } from '../bridges/uplink/entities.js';
import {
  discoveryPublisher,
  type AgentEntities,
  remediationEntityFamily,
  silenceEntityFamily,
  removeStaleDiscovery,
} from '../discovery/agent-model.js';
import type { PendingAction } from '../discovery/entities/remediation.js';
import type { EntityFamily } from '../discovery/family.js';
import type { DiscoveryPublisher } from '../discovery/publisher.js';
import type { Capability, CapabilityModule } from './capabilities/capability.js';
import { containersModule } from './capabilities/containers/module.js';
import { disksModule } from './capabilities/disks/module.js';
import { watchdogModule } from './capabilities/watchdog/module.js';
import { homeAssistantModule } from '../bridges/home-assistant/module.js';
import { backupsModule } from './capabilities/backups/module.js';
import { influxdbModule } from '../bridges/influxdb/module.js';
import { zigbee2mqttModule } from '../bridges/zigbee2mqtt/module.js';
import { Remediation } from './commands/remediation.js';
import type { LoadedConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { systemClock } from './core/clock.js';
import { logEvent } from './core/alert-log.js';
import { OutpostError, errorMessage } from './core/errors.js';
import { EventBus } from './core/event-bus.js';
import type { NewEvent } from './core/events.js';
import { Lifecycle, type Component } from './core/lifecycle.js';
import type { Logger } from './core/logger.js';
import { StateFile } from './core/state-file.js';
import { ONLINE, topics } from './core/topics.js';
import { VERSION } from './core/version.js';
import { SshPool } from './hosts/ssh-pool.js';
import { HealthApi, type HealthReport, type HttpRoute } from './http/health-api.js';
import { StatusPage } from './http/status/status-page.js';
import { aclRules } from './mqtt/acl.js';
import { MqttLink } from './mqtt/client.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { agentClientId, linkOptions, topicRoot } from './mqtt/link-options.js';
import { useUncachedPacketNumbers } from './mqtt/packet-writer.js';
import { StatePublisher } from './mqtt/state-publisher.js';
import { Journal, journalSink, resolveJournalDir } from './sinks/journal.js';
import { MqttEventSink } from './sinks/mqtt-event-sink.js';
import type { AgentBus, AgentEvents } from './state/bus-events.js';
import { INCIDENTS_FILE, Incidents, incidentsFileSchema } from './state/incidents.js';
import type { EventStore } from './store/event-store.js';
import { EventSpill } from './store/spill.js';
import { diagnoseDir } from './store/sqlite-failure.js';
import { openOrReopen } from './store/reopening-store.js';
import { EVENTS_DB_FILE, SqliteEventStore } from './store/sqlite-store.js';
import { ulidGenerator } from './store/ulid.js';

/**
 * The capabilities, in start order (docs/architecture.md "Capability modules"): a new one adds
 * its module here, and its config section to the list in src/config/schema.ts.
 */
export const CAPABILITIES: readonly CapabilityModule[] = [
  containersModule,
  watchdogModule,
  disksModule,
  homeAssistantModule,
  backupsModule,
  influxdbModule,
  zigbee2mqttModule,
];

/** A running agent: what `outpost run` holds until a signal arrives. */
export interface RunningAgent {
  readonly link: MqttLink;
  readonly broker: EmbeddedBroker | undefined;
  readonly discovery: DiscoveryPublisher;
  stop(): Promise<void>;
}

/**
 * The composition root (STYLE.md §1): builds every component from the frozen config and
 * starts them in order; `stop` stops them in reverse. Modules reach each other only
 * through the bus; nothing is assigned after construction.
 */
export async function startAgent(loaded: LoadedConfig, log: Logger): Promise<RunningAgent> {
  const { config } = loaded;
  const root = topicRoot(config);
  const clock = systemClock;
  const lifecycle = new Lifecycle(log);
  // A global setting of mqtt-packet, shared by mqtt.js and aedes: its number cache holds
  // ~7 MiB for the process's life (src/mqtt/packet-writer.ts). Set once, before any packet.
  useUncachedPacketNumbers();
  log.info(
    { version: VERSION, node: config.node.id, config: loaded.file, broker: config.broker.mode },
    'outpost starting',
  );
  makeDataDir(config);
  const store = openStore(config, log);
  if (store) lifecycle.adopt(component('event-store', noop, () => store.close()));
  const spill = store && openSpill(config, store, log);
  if (spill) lifecycle.adopt(spill); // stops before the store: one last write of what it holds
  const broker = await startBroker(config, lifecycle, log, (e) => recordEvent(spill, e, log));
  const link = new MqttLink(linkOptions(config, log, broker?.localEndpoint()));
  const states = new StatePublisher({
    mqtt: link,
    log,
    clock,
    heartbeatMs: config.discovery.heartbeat,
  });
  const bus: AgentBus = new EventBus<AgentEvents>(log.child({ component: 'bus' }));

  const incidents = openIncidents(config, log);
  // One SSH connection per host, leased by every capability that reaches it (issue #16).
  const ssh = new SshPool(config.hosts, { clock, log });
  const messages = broker ? broker.messages() : link;
  const record = (e: NewEvent) => recordEvent(spill, e, log);
  const ctx = {
    config,
    root,
    bus,
    states,
    clock,
    log,
    incidents,
    messages,
    mqtt: link,
    ssh,
    store,
    record,
  };
  const capabilities: Capability[] = [];
  for (const m of CAPABILITIES) {
    const c = await m.create(ctx);
    if (c) capabilities.push(c);
  }
  const remediation = await Remediation.create({
    config,
    root,
    mqtt: link,
    clock,
    log: log.child({ component: 'remediation' }),
    record: (e) => recordEvent(spill, e, log),
    executors: capabilities.flatMap((c) => c.executors ?? []),
    // On the embedded broker commands are heard in-process, with the sender's login.
    ...(broker ? { commands: broker.messages() } : {}),
    bus,
    incidents,
  });
  // After remediation's own listener (self-healing hears every transition): an event is
  // stored unless maintenance, a silence or a planned restart holds it back.
  bus.on('event-store', 'event', (e) => {
    const kept = remediation.filterAlert(e);
    if (kept) recordEvent(spill, kept, log);
  });
  const discovery = await discoveryPublisher(config, link, states, log, () =>
    agentEntities(
      config,
      capabilities.flatMap((c) => (c.entities ? [c.entities()] : [])),
      remediation.api.pending(),
    ),
  );
  const syncDiscovery = debounce(1000, (complete: boolean) => {
    discovery.sync({ observationOk: complete }).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'discovery sync failed');
    });
  });
  bus.on('discovery', 'observed', ({ complete }) => syncDiscovery(complete));

  // Discovery first, so its HA-birth subscription is in place when the link connects.
  await lifecycle.start(discovery, { essential: true });
  await lifecycle.start(states);
  const mqtt = component(
    'mqtt',
    () => link.start(),
    () => link.stop(),
  );
  await lifecycle.start(mqtt, { essential: true });
  for (const h of config.hosts) {
    // A host nothing watches yet is the machine the agent runs on (reachable by
    // definition); watched hosts report their reachability through their collectors.
    if (!h.ssh && !h.engine) void states.set(topics.hostAvailability(root, h.id), ONLINE);
  }
  // After the link, so remediation stops (and answers what it holds) before the link does.
  await lifecycle.start(remediation);
  if (store) await startSinks(loaded, { store, link, states, lifecycle, bus, log });
  if (config.http.enabled) {
    const reports = capabilities.flatMap((c) => (c.health ? [c.health] : []));
    const agent = () => ({ ok: link.connected });
    const routes: HttpRoute[] = capabilities.flatMap((c) => c.http ?? []);
    const users = config.http.users; // their tokens open the reports off loopback
    if (config.http.status_page) {
      const page = statusPage(config, { reports, link, bus, remediation, incidents, store, log });
      await lifecycle.start(page);
      routes.push(page);
    }
    await lifecycle.start(
      new HealthApi({ listen: config.http.listen, log, reports, agent, routes, users }),
    );
  }
  for (const c of capabilities) await startCapability(c, lifecycle);
  void removeStaleDiscovery(config, link, discovery, log);

  log.info({ node: config.node.id, availability: topics.availability(root) }, 'outpost running');
  return { link, broker, discovery, stop: () => lifecycle.stopAll() };
}

/**
 * Everything the agent shows in Home Assistant: the capabilities' entity families,
 * remediation's, the silence switches, the uplink's, and every alert type raised.
 */
export function agentEntities(
  config: Config,
  fromCapabilities: readonly EntityFamily[],
  pending: readonly PendingAction[] = [],
): AgentEntities {
  return {
    families: [
      ...fromCapabilities,
      remediationEntityFamily(config, pending),
      silenceEntityFamily(config),
      ...(config.uplink ? [uplinkFamily] : []),
    ],
    alerts: CAPABILITIES.flatMap((m) => m.events),
  };
}

/** The entities from config alone, before anything is observed (print-discovery, cleanup). */
export function configuredEntities(config: Config): AgentEntities {
  return agentEntities(
    config,
    CAPABILITIES.flatMap((m) => m.entities?.(config) ?? []),
  );
}

/**
 * A capability's components start together: a host that is down holds its collector's
 * start until its deadline, not the others'. Its own stop runs after theirs.
 */
async function startCapability(c: Capability, lifecycle: Lifecycle): Promise<void> {
  if (c.stop) lifecycle.adopt(component(c.name, noop, () => Promise.resolve(c.stop?.())));
  await Promise.all(c.components.map((part) => lifecycle.start(part)));
}

/**
 * The data dir, writable, or one error naming it and why. A data dir that cannot be
 * written at start stays that way (a read-only mount, wrong ownership): running on would
 * leave remediation unaudited and the broker without its sessions, looking healthy in
 * Home Assistant while half of it works. So the agent does not start, and its supervisor
 * (systemd, Docker) shows the one line. A disk that fills or turns read-only while the
 * agent runs is another matter: it keeps running (docs/troubleshooting.md "When the disk is full").
 */
function makeDataDir(config: Config): void {
  try {
    mkdirSync(config.data_dir, { recursive: true });
  } catch (err) {
    throw new OutpostError(
      'CONFIG_INVALID',
      `data_dir: cannot create ${config.data_dir}: ${errorMessage(err)}`,
    );
  }
  const cause = diagnoseDir(config.data_dir);
  if (cause?.reason === 'read_only') {
    const needs = 'outpost needs to write its event store, broker sessions and audit log there';
    throw new OutpostError('CONFIG_INVALID', `data_dir: ${cause.text}; ${needs}`);
  }
}

async function startBroker(
  config: Config,
  lifecycle: Lifecycle,
  log: Logger,
  record: (e: NewEvent) => void,
): Promise<EmbeddedBroker | undefined> {
  if (config.broker.mode !== 'embedded') return undefined;
  const broker = new EmbeddedBroker({
    config: config.broker,
    dataDir: config.data_dir,
    acl: aclRules(config.mqtt.base_topic, config.node.id, config.mqtt.discovery_prefix),
    availabilityTopic: topics.availability(topicRoot(config)),
    agentClientId: agentClientId(config),
    // A refused connection is a security event: stored, forwarded, shown as an alert.
    refused: (r) =>
      record({
        type: 'mqtt_client_refused',
        severity: 'warning',
        subject: `mqtt/${r.clientId}`,
        data: { client_id: r.clientId, user: r.user, reason: r.reason },
      }),
    // One that stopped reading (a dashboard, a script): the site should know it lost data.
    dropped: (d) =>
      record({
        type: 'mqtt_client_dropped',
        severity: 'warning',
        subject: `mqtt/${d.clientId}`,
        data: {
          client_id: d.clientId,
          user: d.user,
          reason: d.reason,
          qos0_dropped: d.qos0Dropped,
        },
      }),
    log,
  });
  await lifecycle.start(broker, { essential: true });
  return broker;
}

/**
 * The event store's consumers, each on its own cursor (docs/architecture.md "Sinks"): the
 * local event stream (HA's alert entity), the uplink to a central broker, the JSON-lines
 * journal. The uplink holds while the watchdog says it is down.
 */
async function startSinks(
  loaded: LoadedConfig,
  deps: {
    store: EventStore;
    link: MqttLink;
    states: StatePublisher;
    lifecycle: Lifecycle;
    bus: AgentBus;
    log: Logger;
  },
): Promise<void> {
  const { config } = loaded;
  const { store, link, states, lifecycle, bus, log } = deps;
  await lifecycle.start(new MqttEventSink({ store, mqtt: link, root: topicRoot(config), log }));
  // The uplink's code only when it is configured (issue 15, idle RSS).
  const uplink = config.uplink
    ? (await import('../bridges/uplink/from-config.js')).uplinkFromConfig(config, {
        store,
        local: link,
        states,
        log,
      })
    : undefined;
  if (uplink) {
    bus.on(uplink.name, 'uplink', ({ up }) =>
      up ? uplink.resume() : uplink.pause('watchdog: uplink down'),
    );
    await lifecycle.start(uplink);
  }
  if (config.journal.enabled) {
    const dir = resolveJournalDir(config.journal.dir, config.data_dir, loaded.file);
    const journal = new Journal({ dir });
    await lifecycle.start(
      journalSink({ store, journal, log: log.child({ component: 'journal' }) }),
    );
  }
}

/**
 * The event store. One that cannot open for a reason that can pass (a full disk) is
 * retried until it opens, its events held by the spill meanwhile (reopening-store.ts);
 * without one (any other failure) the agent still runs, and says so.
 */
function openStore(config: Config, log: Logger): EventStore | undefined {
  const storeLog = log.child({ component: 'event-store' });
  const open = () =>
    SqliteEventStore.open({
      dataDir: config.data_dir,
      node: config.node.id,
      maxBytes: config.store.max_bytes,
      maxAge: config.store.max_age,
      retention: config.store.retention,
      log: storeLog,
    });
  try {
    const path = join(config.data_dir, EVENTS_DB_FILE);
    const { max_bytes: maxBytes } = config.store;
    return openOrReopen({ open, path, maxBytes, clock: systemClock, log: storeLog });
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'event store unavailable: events are only logged');
    return undefined;
  }
}

/** The store's spill (`store.spill`): what the store cannot write yet waits in memory. */
function openSpill(config: Config, store: EventStore, log: Logger): EventSpill {
  const { max_events, max_bytes } = config.store.spill;
  return new EventSpill({
    store,
    limits: { maxEvents: max_events, maxBytes: max_bytes },
    clock: systemClock,
    log: log.child({ component: 'event-spill' }),
  });
}

/** Open incidents, kept in `<data_dir>/incidents.json` across restarts (issue #14). */
function openIncidents(config: Config, log: Logger): Incidents {
  const newId = ulidGenerator();
  const file = new StateFile(join(config.data_dir, INCIDENTS_FILE), incidentsFileSchema, log);
  return new Incidents({ newId, file });
}

function recordEvent(spill: EventSpill | undefined, e: NewEvent, log: Logger): void {
  logEvent(log, e);
  if (!spill) {
    log.warn({ event: e }, 'event (not stored)');
    return;
  }
  spill.record(e);
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

/**
 * The local status page (`http.status_page`, docs/status-page.md): it reads what the
 * agent exposes, and its approve / reject buttons are the bus's `decision`, as the Home
 * Assistant bridge's are, decided by remediation's policy as `web:<user>`.
 */
function statusPage(
  config: Config,
  d: {
    reports: readonly HealthReport[];
    link: MqttLink;
    bus: AgentBus;
    remediation: Remediation;
    incidents: Incidents;
    store: EventStore | undefined;
    log: Logger;
  },
): StatusPage {
  return new StatusPage({
    users: config.http.users,
    sources: {
      node: config.node.name,
      hosts: config.hosts.map((h) => ({ id: h.id, local: !h.ssh && !h.engine })),
      reports: d.reports,
      mqttConnected: () => d.link.connected,
      pending: () => d.remediation.api.pending(),
      incidents: () => d.incidents.list(),
      ...(d.store ? { store: d.store } : {}),
    },
    decide: (actionId, verdict, by) =>
      new Promise((answer) => d.bus.emit('decision', { actionId, verdict, by, answer })),
    clock: systemClock,
    log: d.log.child({ component: 'status-page' }),
  });
}
