import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Component } from '../src/core/lifecycle.js';
import { topics } from '../src/core/topics.js';
import type { RetainedState } from '../src/mqtt/state-publisher.js';
import type { IncomingMessage, MqttPublisher } from '../src/mqtt/types.js';
import { BirthRounds } from './birth-rounds.js';
import type { DiscoveryConfig } from './entity.js';
import { agentScope } from './ids.js';
import { InFlightWindow } from './in-flight.js';
import { outgoingMessages, republishMessages, type Outgoing } from './outgoing.js';
import { Pacer } from './pacer.js';
import { EMPTY_PRUNE_STATE, planDiscovery, plannedConfig, type PruneState } from './planner.js';
import type { DiscoveryRegistry, RegistryChange, RegistryEntry } from './registry.js';
import { RoundRetry } from './round-retry.js';
import { parseConfigTopic } from './topics.js';

export type { RetainedState } from '../src/mqtt/state-publisher.js';

/** The log calls the publisher makes (a pino Logger fits). */
export interface PublisherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * One device of what the agent would publish now: its configs are built only when a round
 * needs them, and can be built again with the same result.
 */
export interface SnapshotDevice {
  /** DiscoveryConfig.deviceId of its configs (the registry files them under it). */
  readonly id: string;
  /** Equal fingerprints promise equal configs; without one, every round builds it. */
  readonly fingerprint?: string;
  build(): readonly DiscoveryConfig[];
}

/** What the agent would publish now, cheap to take: one entry per device. */
export interface DiscoverySnapshot {
  readonly devices: Iterable<SnapshotDevice>;
}

export interface DiscoveryPublisherOptions {
  readonly mqtt: MqttPublisher;
  /** What was published; closed by stop(). */
  readonly registry: DiscoveryRegistry;
  /**
   * What the agent produces now. A function returning configs is a snapshot without
   * fingerprints (every round builds and compares them).
   */
  readonly desired: (() => DiscoverySnapshot) | (() => readonly DiscoveryConfig[]);
  /** Sends awaiting their acknowledgement at once, at most; 256 by default. */
  readonly inFlight?: number;
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

const DEFAULT_IN_FLIGHT = 256;

const UNCHANGED: SyncResult = { published: 0, removed: 0, clearedStates: 0, held: 0, failed: 0 };

/** What a round knows of one device between rounds: a fingerprint and a few held configs. */
interface DeviceState {
  /** Fingerprint of its last round that left nothing to do (nothing failed or held). */
  settled?: string;
  prune: PruneState;
  /** The configs of its held entities (absent, not yet removed), for device messages. */
  held: Map<string, DiscoveryConfig>;
  /** The device as last built: where a newly absent entity's config is rebuilt from. */
  last?: SnapshotDevice;
}

/**
 * Keeps HA's discovery configs in line with what the agent produces: publishes only
 * what changed, removes what stayed gone, and re-announces everything (configs first,
 * then states) when HA sends its birth message (HA_DOCS.birth). All sends are paced.
 *
 * A round goes device by device: a device whose fingerprint is that of its last settled
 * round costs one comparison; any other is built, compared with its rows of the registry,
 * and its changes sent (a bounded window in flight) and recorded in one write. So at most
 * one device's configs are held at a time, and a change on one host builds that host only.
 */
export class DiscoveryPublisher implements Component {
  readonly name = 'discovery';
  readonly #o: DiscoveryPublisherOptions;
  readonly #pacer: Pacer;
  readonly #window: InFlightWindow;
  readonly #devices = new Map<string, DeviceState>();
  #serial: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;
  readonly #births: BirthRounds;
  readonly #retry: RoundRetry;

  constructor(opts: DiscoveryPublisherOptions) {
    this.#o = opts;
    this.#pacer = new Pacer({
      rate: opts.rate ?? 200,
      burst: opts.burst,
      clock: opts.clock,
      sleep: opts.sleep,
    });
    this.#window = new InFlightWindow(opts.inFlight ?? DEFAULT_IN_FLIGHT);
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
    this.#retry = new RoundRetry({
      clock: opts.clock,
      connected: () => opts.mqtt.connected,
      onConnect: (l) => opts.mqtt.onConnect(l),
      // Not an observation: it publishes what is missing and removes nothing.
      redo: () => this.#background(this.sync({ observationOk: false }), 'discovery redo failed'),
    });
  }

  start(): Promise<void> {
    this.#unsubscribe = this.#o.mqtt.subscribe(topics.haStatus(this.#o.prefix), (m) =>
      this.#onHaStatus(m),
    );
    this.#retry.start();
    // Not awaited: publishes resolve only once the broker has them, and start must not
    // wait for a connection. The first round never removes anything.
    this.#background(this.sync({ observationOk: false }), 'initial discovery sync failed');
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#births.stop();
    this.#retry.stop();
    this.#pacer.stop();
    await this.#serial.catch(() => undefined);
    this.#o.registry.close?.();
  }

  /** One round: publish new or changed configs; remove those absent long enough. */
  sync(opts: { observationOk?: boolean } = {}): Promise<SyncResult> {
    return this.#exclusive(async () => {
      const ok = opts.observationOk ?? true;
      const total = { ...UNCHANGED };
      const seen = new Set<string>();
      const clears = new Set<string>();
      for (const device of this.#snapshot().devices) {
        seen.add(device.id);
        const state = this.#state(device.id);
        const unchanged = device.fingerprint !== undefined && device.fingerprint === state.settled;
        if (unchanged && state.prune.absences.size === 0) {
          // Equal fingerprints, equal configs: rebuilding from this round's device gives
          // what the older one would. Each device's last build holds the whole model it
          // came from (every host's containers), so devices last built in different rounds
          // would each keep an older model alive; this way only the latest one is held.
          state.last = device;
          continue;
        }
        addTo(total, await this.#syncDevice(device, state, ok, seen, clears));
      }
      // Devices no longer in the model (a host taken out of config) go at once; entries
      // written before their device was recorded wait out the usual absences.
      const kept = new Set(seen);
      for (const id of this.#o.registry.deviceIds()) {
        if (seen.has(id)) continue;
        kept.add(id);
        const gone = { id, build: () => [] };
        addTo(total, await this.#syncDevice(gone, this.#state(id), ok, seen, clears));
      }
      const cleared = await this.#clearStates(clears);
      total.clearedStates = cleared.cleared;
      total.failed += cleared.failed;
      for (const id of this.#devices.keys()) if (!kept.has(id)) this.#devices.delete(id);
      if (total.failed > 0)
        this.#o.log.warn(
          { failed: total.failed },
          'discovery round left sends unacknowledged: redoing it',
        );
      this.#retry.done(total.failed);
      return total;
    });
  }

  /** Whether entities are absent but not yet removed (rounds must go on to count). */
  get holding(): boolean {
    for (const d of this.#devices.values()) if (d.prune.absences.size > 0) return true;
    return false;
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

  async #syncDevice(
    device: SnapshotDevice,
    state: DeviceState,
    observationOk: boolean,
    configured: ReadonlySet<string>,
    clears: Set<string>,
  ): Promise<SyncResult> {
    const configs = device.build();
    const rows = new Map(this.#o.registry.device(device.id));
    const claims = this.#claim(configs, rows);
    const plan = planDiscovery({
      desired: configs.map(plannedConfig),
      published: [...rows],
      prune: state.prune,
      observationOk,
      pruneAfter: this.#o.pruneAfter,
      deviceBased: this.#o.deviceBased,
      devices: configured,
    });
    state.prune = plan.prune;
    state.held = heldConfigs(plan.held, state);
    state.last = device;
    state.settled = undefined;
    plan.clearState.forEach((t) => clears.add(t));
    const messages = outgoingMessages({
      plan: { ...plan, clearState: [] },
      devices: () => [configs],
      held: plan.held.flatMap((t) => state.held.get(t) ?? []),
      published: rows,
      deviceBased: this.#o.deviceBased === true,
      prefix: this.#o.prefix,
    });
    const failed = await this.#send(messages, { set: claims });
    if (failed === 0 && plan.held.length === 0) state.settled = device.fingerprint;
    return {
      published: plan.publish.length,
      removed: plan.remove.length,
      clearedStates: 0,
      held: plan.held.length,
      failed,
    };
  }

  /**
   * Clears the retained state topics removed entities left, at the end of the round: an
   * entity that moved to another device (Home Assistant's, from the agent's) is removed
   * from the first device's rows and published on the second's with the same state topic,
   * which must survive. A topic still named by any published row stays.
   */
  async #clearStates(clears: ReadonlySet<string>): Promise<{ cleared: number; failed: number }> {
    if (clears.size === 0) return { cleared: 0, failed: 0 };
    const inUse = new Set<string>();
    for (const [, entry] of this.#o.registry.list()) entry.stateTopics.forEach((t) => inUse.add(t));
    const orphaned = [...clears].filter((t) => !inUse.has(t)).sort();
    const failed = await this.#send(orphaned.map((topic) => ({ topic, payload: '' })));
    return { cleared: orphaned.length - failed, failed };
  }

  /**
   * Rows of this device's topics filed under another key (written before entries recorded
   * their device): compared as this device's, and filed under it from now on.
   */
  #claim(
    configs: readonly DiscoveryConfig[],
    rows: Map<string, RegistryEntry>,
  ): Array<readonly [string, RegistryEntry]> {
    const claims: Array<readonly [string, RegistryEntry]> = [];
    for (const c of configs) {
      if (rows.has(c.topic)) continue;
      const entry = this.#o.registry.get(c.topic);
      if (entry === undefined) continue;
      rows.set(c.topic, entry);
      claims.push([c.topic, { ...entry, deviceId: c.deviceId }]);
    }
    return claims;
  }

  /**
   * One paced stream over every device (built when its turn comes), then every state: no
   * registry write, so no pause between devices.
   */
  async #republish(): Promise<number> {
    const deviceBased = this.#o.deviceBased === true;
    const devices = this.#snapshot().devices;
    const registry = this.#o.registry;
    const held = (id: string) => [...(this.#devices.get(id)?.held.values() ?? [])];
    const states = this.#o.currentStates?.() ?? [];
    let sent = 0;
    const messages = function* (): Generator<Outgoing> {
      for (const device of devices) {
        const rows = new Map(registry.device(device.id));
        const live = held(device.id).filter((c) => rows.has(c.topic));
        for (const m of republishMessages([device.build()], live, rows, deviceBased)) {
          sent++;
          yield m;
        }
      }
      for (const s of states) {
        sent++;
        yield { topic: s.topic, payload: s.payload.toString() };
      }
    };
    await this.#send(messages());
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
      for (const device of this.#snapshot().devices) {
        for (const c of device.build()) produced.add(this.#o.deviceBased ? c.deviceTopic : c.topic);
        // Building every device at once held the event loop for 4 s at 20,000 containers,
        // and the embedded broker shares it: yield between devices so keepalives and
        // other clients are served.
        await nextTurn();
      }
      // One device's rows at a time, for the same reason.
      for (const id of this.#o.registry.deviceIds()) {
        for (const [topic, entry] of this.#o.registry.device(id)) {
          produced.add(topic);
          if (entry.deviceTopic) produced.add(entry.deviceTopic);
        }
        await nextTurn();
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
    const byDevice = new Map<string, DiscoveryConfig[]>();
    for (const c of taken as readonly DiscoveryConfig[]) {
      const list = byDevice.get(c.deviceId) ?? [];
      list.push(c);
      byDevice.set(c.deviceId, list);
    }
    return { devices: [...byDevice].map(([id, configs]) => ({ id, build: () => configs })) };
  }

  #state(id: string): DeviceState {
    let state = this.#devices.get(id);
    if (state === undefined) {
      state = { prune: EMPTY_PRUNE_STATE, held: new Map() };
      this.#devices.set(id, state);
    }
    return state;
  }

  #onHaStatus(msg: IncomingMessage): void {
    if (msg.payload.toString().trim() === 'online') this.#births.birth();
  }

  /**
   * Sends in order, paced, taking each message only when its turn comes and with at most
   * a window of them unacknowledged; then records what the broker took (in send order, after
   * `before`) in one registry write. Returns how many failed.
   */
  async #send(messages: Iterable<Outgoing>, before: RegistryChange = {}): Promise<number> {
    const changes: Array<RegistryChange | undefined> = [before];
    let failed = 0;
    for (const m of messages) {
      await this.#pacer.take();
      const { topic, registry } = m;
      const slot = changes.push(undefined) - 1;
      await this.#window.start(() =>
        this.#o.mqtt.publish(topic, m.payload, PUBLISH).then(
          () => void (changes[slot] = registry),
          (err: unknown) => {
            failed++;
            this.#o.log.warn({ topic, err: errorMessage(err) }, 'discovery publish failed');
          },
        ),
      );
    }
    await this.#window.drain();
    const set: Array<readonly [string, RegistryEntry]> = [];
    const del: string[] = [];
    for (const change of changes) {
      if (change?.set) set.push(...change.set);
      if (change?.delete) del.push(...change.delete);
    }
    if (set.length > 0 || del.length > 0) await this.#o.registry.apply({ set, delete: del });
    return failed;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.catch(() => undefined).then(fn);
    this.#serial = run;
    return run;
  }

  #background(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.#o.log.error({ err: errorMessage(err) }, what));
  }
}

/**
 * The configs of a device's held topics: those held before, and those absent for the
 * first time, rebuilt from the device as last built (the last one that had them).
 */
function heldConfigs(held: readonly string[], state: DeviceState): Map<string, DiscoveryConfig> {
  const next = new Map<string, DiscoveryConfig>();
  const missing = new Set<string>();
  for (const topic of held) {
    const known = state.held.get(topic);
    if (known) next.set(topic, known);
    else missing.add(topic);
  }
  if (missing.size > 0 && state.last) {
    for (const c of state.last.build()) if (missing.has(c.topic)) next.set(c.topic, c);
  }
  return next;
}

/** Lets the event loop serve I/O (the broker, keepalives) before the next device. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function addTo(total: { -readonly [K in keyof SyncResult]: number }, r: SyncResult): void {
  total.published += r.published;
  total.removed += r.removed;
  total.clearedStates += r.clearedStates;
  total.held += r.held;
  total.failed += r.failed;
}
