import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Component } from '../src/core/lifecycle.js';
import { topics } from '../src/core/topics.js';
import type { RetainedState } from '../src/mqtt/state-publisher.js';
import type { IncomingMessage, MqttPublisher } from '../src/mqtt/types.js';
import { BirthRounds } from './birth-rounds.js';
import type { DiscoveryConfig } from './entity.js';
import { agentScope } from './ids.js';
import {
  groupConfigs,
  outgoingMessages,
  republishMessages,
  type Devices,
  type Outgoing,
} from './outgoing.js';
import { Pacer } from './pacer.js';
import {
  EMPTY_PRUNE_STATE,
  planDiscovery,
  plannedConfig,
  type PlannedConfig,
  type PruneState,
} from './planner.js';
import type { DiscoveryRegistry, RegistryChange, RegistryEntry } from './registry.js';
import { parseConfigTopic } from './topics.js';

export type { RetainedState } from '../src/mqtt/state-publisher.js';

/** The log calls the publisher makes (a pino Logger fits). */
export interface PublisherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * What the agent would publish now, cheap to take: the configs are built only when a
 * round needs them, one device at a time, and can be built again from the same snapshot.
 */
export interface DiscoverySnapshot {
  /** Equal fingerprints promise equal configs; without one, every round compares. */
  readonly fingerprint?: string;
  /** Every config, grouped by device (one device topic per group). */
  readonly devices: Devices;
}

export interface DiscoveryPublisherOptions {
  readonly mqtt: MqttPublisher;
  readonly registry: DiscoveryRegistry;
  /**
   * What the agent produces now. A function returning configs is a snapshot without a
   * fingerprint (every round builds and compares them).
   */
  readonly desired: (() => DiscoverySnapshot) | (() => readonly DiscoveryConfig[]);
  /** Current retained states, resent after the configs when HA comes online. */
  readonly currentStates?: () => Iterable<RetainedState>;
  readonly clock: Clock;
  readonly log: PublisherLog;
  /** HA discovery prefix. */
  readonly prefix: string;
  /** Node id from config; discovery's node_id is `outpost_<node>`. */
  readonly node: string;
  /** Messages per second, 200 by default. */
  readonly rate?: number;
  readonly burst?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pruneAfter?: number;
  readonly deviceBased?: boolean;
  /** At most one republish round for HA's birth starts in this long; 0 by default. */
  readonly birthCooldownMs?: number;
}

export interface SyncResult {
  readonly published: number;
  readonly removed: number;
  readonly clearedStates: number;
  readonly held: number;
  readonly failed: number;
}

const PUBLISH = { qos: 1, retain: true } as const;

const UNCHANGED: SyncResult = { published: 0, removed: 0, clearedStates: 0, held: 0, failed: 0 };

/**
 * Keeps HA's discovery configs in line with what the agent produces: publishes only
 * what changed, removes what stayed gone, and re-announces everything (configs first,
 * then states) when HA sends its birth message (HA_DOCS.birth). All sends are paced.
 */
export class DiscoveryPublisher implements Component {
  readonly name = 'discovery';
  readonly #o: DiscoveryPublisherOptions;
  readonly #pacer: Pacer;
  #prune: PruneState = EMPTY_PRUNE_STATE;
  /**
   * The configs of held entities (absent, not yet removed), so device messages and HA's
   * birth can still carry them. Only those: at 5,000 containers every config is ~25 MB.
   */
  #held = new Map<string, DiscoveryConfig>();
  /** The snapshot of the last round: where a newly absent entity's config is rebuilt from. */
  #last: DiscoverySnapshot | undefined;
  /** Fingerprint of the last round that left nothing to do, if it had one. */
  #settled: string | undefined;
  #serial: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;
  readonly #births: BirthRounds;

  constructor(opts: DiscoveryPublisherOptions) {
    this.#o = opts;
    this.#pacer = new Pacer({
      rate: opts.rate ?? 200,
      burst: opts.burst,
      clock: opts.clock,
      sleep: opts.sleep,
    });
    this.#births = new BirthRounds({
      clock: opts.clock,
      cooldownMs: opts.birthCooldownMs ?? 0,
      queue: () => this.#background(this.#birthRound(), 'republish after HA birth failed'),
      deferred: (ms) =>
        opts.log.info(
          { inMs: Math.ceil(ms) },
          "Home Assistant's birth again during the cooldown: one more round at its end",
        ),
    });
  }

  start(): Promise<void> {
    this.#unsubscribe = this.#o.mqtt.subscribe(topics.haStatus(this.#o.prefix), (m) =>
      this.#onHaStatus(m),
    );
    // Not awaited: publishes resolve only once the broker has them, and start must not
    // wait for a connection. The first round never removes anything.
    this.#background(this.sync({ observationOk: false }), 'initial discovery sync failed');
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#births.stop();
    this.#pacer.stop();
    await this.#serial.catch(() => undefined);
  }

  /** One round: publish new or changed configs; remove those absent long enough. */
  sync(opts: { observationOk?: boolean } = {}): Promise<SyncResult> {
    return this.#exclusive(async () => {
      const snapshot = this.#snapshot();
      // Nothing changed and nothing is waiting for removal: no round to run.
      const fingerprint = snapshot.fingerprint;
      if (fingerprint !== undefined && fingerprint === this.#settled && !this.holding) {
        return UNCHANGED;
      }
      // Planning reads hashes only; the send builds each device's configs again as it
      // goes, so a round never holds every config (HA_DOCS.birth rounds do the same).
      const desired: PlannedConfig[] = [];
      for (const device of snapshot.devices())
        for (const c of device) desired.push(plannedConfig(c));
      const published = new Map(this.#o.registry.list());
      const plan = planDiscovery({
        desired,
        published: [...published],
        prune: this.#prune,
        observationOk: opts.observationOk ?? true,
        pruneAfter: this.#o.pruneAfter,
        deviceBased: this.#o.deviceBased,
      });
      this.#prune = plan.prune;
      this.#rememberHeld(plan.held);
      this.#last = snapshot;
      this.#settled = undefined;
      const held = plan.held.flatMap((t) => this.#held.get(t) ?? []);
      const messages = outgoingMessages({
        plan,
        devices: snapshot.devices,
        held,
        published,
        deviceBased: this.#o.deviceBased === true,
        prefix: this.#o.prefix,
      });
      const failed = await this.#send(messages);
      if (failed === 0) this.#settled = fingerprint;
      return {
        published: plan.publish.length,
        removed: plan.remove.length,
        clearedStates: plan.clearState.length,
        held: plan.held.length,
        failed,
      };
    });
  }

  /** Whether entities are absent but not yet removed (rounds must go on to count). */
  get holding(): boolean {
    return this.#prune.absences.size > 0;
  }

  /** Re-announces every config, then every current state. */
  republishAll(): Promise<number> {
    return this.#exclusive(() => this.#republish());
  }

  /** A round for HA's birth messages: the ones since the last round are answered by it. */
  #birthRound(): Promise<number> {
    return this.#exclusive(() => {
      const births = this.#births.began();
      this.#o.log.info({ births }, "republishing for Home Assistant's birth message");
      return this.#republish();
    });
  }

  async #republish(): Promise<number> {
    const published = new Map(this.#o.registry.list());
    const held = [...this.#held.values()].filter((c) => published.has(c.topic));
    const configs = republishMessages(
      this.#snapshot().devices(),
      held,
      published,
      this.#o.deviceBased === true,
    );
    const states = this.#o.currentStates?.() ?? [];
    let sent = 0;
    const counted = function* (): Generator<Outgoing> {
      for (const m of configs) {
        sent++;
        yield m;
      }
      for (const s of states) {
        sent++;
        yield { topic: s.topic, payload: s.payload.toString() };
      }
    };
    await this.#send(counted());
    return sent;
  }

  /**
   * Clears retained configs under this node's discovery node_id that neither the desired
   * set nor the registry accounts for (left by an older install or a lost registry).
   * Call it after a successful observation round, so the desired set is complete.
   */
  cleanupFromBroker(retainedConfigTopics: Iterable<string>): Promise<string[]> {
    return this.#exclusive(async () => {
      const nodeId = agentScope(this.#o.node);
      const produced = new Set<string>();
      for (const device of this.#snapshot().devices()) {
        for (const c of device) produced.add(this.#o.deviceBased ? c.deviceTopic : c.topic);
      }
      for (const [topic, entry] of this.#o.registry.list()) {
        produced.add(topic);
        if (entry.deviceTopic) produced.add(entry.deviceTopic);
      }
      const stale = [...new Set(retainedConfigTopics)].filter((t) => {
        const parsed = parseConfigTopic(t, this.#o.prefix);
        return parsed?.nodeId === nodeId && !produced.has(t);
      });
      await this.#send(stale.map((topic) => ({ topic, payload: '' })));
      if (stale.length > 0) this.#o.log.info({ topics: stale }, 'removed stale discovery configs');
      return stale;
    });
  }

  #snapshot(): DiscoverySnapshot {
    const taken = this.#o.desired();
    if (!Array.isArray(taken)) return taken as DiscoverySnapshot;
    const devices = [...groupConfigs(taken as readonly DiscoveryConfig[]).values()];
    return { devices: () => devices };
  }

  /**
   * Keeps the configs of held topics: those held before, and those absent for the first
   * time, rebuilt from the previous round's snapshot (the last one that had them).
   */
  #rememberHeld(held: readonly string[]): void {
    const next = new Map<string, DiscoveryConfig>();
    const missing = new Set<string>();
    for (const topic of held) {
      const known = this.#held.get(topic);
      if (known) next.set(topic, known);
      else missing.add(topic);
    }
    if (missing.size > 0 && this.#last) {
      for (const device of this.#last.devices()) {
        for (const c of device) if (missing.has(c.topic)) next.set(c.topic, c);
      }
    }
    this.#held = next;
  }

  #onHaStatus(msg: IncomingMessage): void {
    if (msg.payload.toString().trim() === 'online') this.#births.birth();
  }

  /**
   * Sends in order, paced, taking each message only when its turn comes; records what the
   * broker took (in send order). Returns how many failed.
   */
  async #send(messages: Iterable<Outgoing>): Promise<number> {
    const sends: Array<Promise<RegistryChange | undefined>> = [];
    let failed = 0;
    for (const m of messages) {
      await this.#pacer.take();
      const { topic, registry } = m;
      const sent = this.#o.mqtt.publish(topic, m.payload, PUBLISH).then(
        () => registry,
        (err: unknown) => {
          failed++;
          this.#o.log.warn({ topic, err: errorMessage(err) }, 'discovery publish failed');
          return undefined;
        },
      );
      sends.push(sent);
    }
    const set: Array<readonly [string, RegistryEntry]> = [];
    const del: string[] = [];
    for (const change of await Promise.all(sends)) {
      set.push(...(change?.set ?? []));
      del.push(...(change?.delete ?? []));
    }
    if (set.length > 0 || del.length > 0) await this.#o.registry.apply({ set, delete: del });
    return failed;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    // Between rounds the registry may keep its entries on disk only.
    const run = this.#serial
      .catch(() => undefined)
      .then(fn)
      .finally(() => this.#o.registry.release?.());
    this.#serial = run;
    return run;
  }

  #background(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.#o.log.error({ err: errorMessage(err) }, what));
  }
}
