import type { EntityFamily } from '../../discovery/family.js';
import type { Executor } from '../commands/executors/types.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { EventType, NewEvent } from '../core/events.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { TopicRoot } from '../core/topics.js';
import type { SshPool } from '../hosts/ssh-pool.js';
import type { HealthReport, HttpRoute } from '../http/health-api.js';
import type { StatePublisher } from '../mqtt/state-publisher.js';
import type { MessageSource, MqttPublisher } from '../mqtt/types.js';
import type { AgentBus } from '../state/bus-events.js';
import type { Incidents } from '../state/incidents.js';
import type { EventStore } from '../store/event-store.js';

/**
 * The shape of every capability (docs/architecture.md "Capability modules"). A capability —
 * containers, watchdog, disks, backups, a bridge — is one folder with a `module.ts` that
 * exports one `CapabilityModule`, and a `config.ts` whose section joins the root schema.
 * `src/main.ts` composes the list of modules (`CAPABILITIES`); nothing else changes
 * when one is added.
 */
export interface CapabilityModule {
  readonly name: string;
  /**
   * The event types its state machine raises. Home Assistant's Alerts entity lists them
   * (HA warns on an event type the entity does not declare).
   */
  readonly events: readonly EventType[];
  /**
   * The running capability for this config, or undefined when its section leaves it off.
   * No I/O here: connections and timers start in its components' `start`. It may import
   * its runtime when its section is on (a promise), so an agent without that section never
   * loads it (issue 15, idle RSS).
   */
  create(ctx: CapabilityContext): Capability | undefined | Promise<Capability | undefined>;
  /** Its entities from config alone, before anything is observed (`print-discovery`). */
  entities?(config: Config): EntityFamily | undefined;
}

/** What every capability is built from: shared by all, owned by none. */
export interface CapabilityContext {
  /** The whole frozen config; a capability reads its own section and `hosts`. */
  readonly config: Config;
  readonly root: TopicRoot;
  /** The one way to reach other modules: announce on it, listen on it. */
  readonly bus: AgentBus;
  /** Retained state topics (the local broker). */
  readonly states: StatePublisher;
  readonly clock: Clock;
  readonly log: Logger;
  /** Open incidents (src/state/incidents.ts): one book for all, kept across restarts. */
  readonly incidents: Incidents;
  /**
   * Messages a capability takes from the site (backup reports): on the embedded broker
   * heard in-process with the sender's login, else over the MQTT link. Absent: none.
   */
  readonly messages?: MessageSource;
  /** One SSH connection per host, leased by every capability that reaches the host. */
  readonly ssh: SshPool;
  /** The event store, when it opened: a bridge that is a sink reads it through its cursor. */
  readonly store?: EventStore;
  /** Stores an event as is, past the bus: a measurement (a sample), never an alert. */
  readonly record?: (e: NewEvent) => void;
  /** The agent's MQTT link: answers to those messages; a bridge that follows other topics. */
  readonly mqtt?: MqttPublisher;
}

/** A capability as it runs. */
export interface Capability {
  readonly name: string;
  /** Collectors, state machines and their timers, started in order after the MQTT link. */
  readonly components: readonly Component[];
  /** Its entities now: config plus what it observed. Taken once per discovery round. */
  entities?(): EntityFamily;
  /** The actions it can carry out for remediation (restart, run now, clean up). */
  readonly executors?: readonly Executor[];
  /** What it adds to the health API, served at `GET /api/health/<path>`. */
  readonly health?: HealthReport;
  /** Its own endpoints on the agent's HTTP listener (the backups' pings). */
  readonly http?: readonly HttpRoute[];
  /** Called after its components stopped (newest capability first). */
  stop?(): void;
}
