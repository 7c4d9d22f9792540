import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { alertData, type NewEvent } from '../../src/core/events.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import type { IncomingMessage, MessageSource } from '../../src/mqtt/types.js';
import { incidentRef, type Incidents } from '../../src/state/incidents.js';
import { offlineText, onlineText } from './alert-text.js';
import type { Zigbee2mqttConfig } from './config.js';
import { StaleDevices } from './stale-devices.js';
import {
  PayloadError,
  parseBridgeDevices,
  parseBridgeHealth,
  parseBridgeInfo,
  parseBridgeState,
  deviceLastSeen,
  type BridgeState,
} from './payloads.js';
import { z2mTopics } from './topics.js';
import { Z2M_KIND } from './kinds.js';

/** The incident kind of a coordinator that stays offline. */
export { Z2M_EVENTS, Z2M_KIND } from './kinds.js';

/** The watch's retained state (`<base>/<node>/zigbee2mqtt`), what its entities read. */
export interface Z2mState {
  state: BridgeState | 'unknown';
  online: boolean;
  /** ISO 8601: when the bridge state last changed, as the watch saw it. */
  since: string | null;
  devices: number | null;
  /** Devices whose last_seen is older than `stale_after`; null when not checked. */
  stale: number | null;
  /** The stale devices' names, oldest first, at most `stale_list_max`. */
  stale_devices: string[];
  version: string | null;
  coordinator: string | null;
  healthy: boolean | null;
}

export interface Z2mWatchOptions {
  config: Zigbee2mqttConfig;
  /** The site's broker: the agent's own link. */
  mqtt: MessageSource;
  publish(state: Z2mState): void;
  record(e: NewEvent): void;
  incidents: Incidents;
  clock: Clock;
  log: Logger;
  /** `bridge/info` changed the version or coordinator (the device shows them). */
  infoChanged?(): void;
}

/** How often the stale-device count is looked at again without a message. */
const RECHECK_MS = 60_000;

/**
 * Follows Zigbee2MQTT on the site's broker (issue 19): its bridge state in both payload
 * forms, its info, health and device list, and optionally its devices' last_seen. A
 * coordinator offline for `offline_after` opens an incident (one per base topic, kept
 * across restarts in the incident book) and raises `zigbee2mqtt_offline`; back online
 * closes it with `zigbee2mqtt_online`. A malformed payload is logged once per topic and
 * reason, then ignored: what the watch knew stands.
 */
export class Z2mWatch implements Component {
  readonly name = 'zigbee2mqtt-watch';
  readonly #o: Z2mWatchOptions;
  readonly #base: string;
  readonly #stale: StaleDevices | undefined;
  readonly #logged = new Set<string>();
  #unsubscribe: (() => void)[] = [];
  #state: BridgeState | 'unknown' = 'unknown';
  #since: number | undefined;
  #devices: string[] | undefined;
  #info: { version: string | null; coordinator: string | null } = {
    version: null,
    coordinator: null,
  };
  #healthy: boolean | null = null;
  #offlineTimer: TimerHandle | undefined;
  #recheckTimer: TimerHandle | undefined;

  constructor(opts: Z2mWatchOptions) {
    this.#o = opts;
    this.#base = opts.config.base_topic;
    const { stale_after: staleAfter, stale_list_max: listMax } = opts.config;
    this.#stale = staleAfter === undefined ? undefined : new StaleDevices(staleAfter, listMax);
  }

  start(): Promise<void> {
    const b = this.#base;
    const on = (topic: string, fn: (m: IncomingMessage) => void) =>
      this.#unsubscribe.push(this.#o.mqtt.subscribe(topic, fn, { qos: 1 }));
    on(z2mTopics.state(b), (m) => this.#onState(m));
    on(z2mTopics.info(b), (m) => this.#onInfo(m));
    on(z2mTopics.health(b), (m) => this.#onHealth(m));
    on(z2mTopics.devices(b), (m) => this.#onDevices(m));
    if (this.#stale) {
      on(z2mTopics.deviceStates(b), (m) => this.#onDevice(m));
      this.#recheck();
    }
    this.#publish();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#clear(this.#offlineTimer);
    this.#clear(this.#recheckTimer);
    this.#offlineTimer = this.#recheckTimer = undefined;
    return Promise.resolve();
  }

  /** What the health API and the entities show. */
  state(): Z2mState {
    const now = this.#o.clock.now();
    const stale = this.#stale?.list(now, this.#devices);
    return {
      state: this.#state,
      online: this.#state === 'online',
      since: this.#since === undefined ? null : new Date(this.#since).toISOString(),
      devices: this.#devices?.length ?? null,
      stale: stale?.count ?? null,
      stale_devices: stale?.names ?? [],
      version: this.#info.version,
      coordinator: this.#info.coordinator,
      healthy: this.#healthy,
    };
  }

  #onState(m: IncomingMessage): void {
    if (m.payload.length === 0) return; // a cleared retained state says nothing
    const state = parseBridgeState(m.payload.toString('utf8'));
    if (state instanceof PayloadError) return this.#malformed(m.topic, state);
    if (state === this.#state) return;
    const at = this.#o.clock.now();
    this.#state = state;
    this.#since = at;
    if (state === 'online') this.#online(at);
    else this.#offline(at);
    this.#publish();
  }

  #offline(at: number): void {
    this.#clear(this.#offlineTimer);
    // Restored from before a restart: the outage was already announced.
    if (this.#o.incidents.get(Z2M_KIND, this.#subject())) return;
    this.#offlineTimer = this.#o.clock.setTimeout(() => {
      this.#offlineTimer = undefined;
      this.#raise(at);
    }, this.#o.config.offline_after);
  }

  #raise(since: number): void {
    const at = this.#o.clock.now();
    const subject = this.#subject();
    const { incident } = this.#o.incidents.raise(subject, 'offline', 'error', at, {
      kind: Z2M_KIND,
      since,
    });
    const data = { base_topic: this.#base, offline_since: new Date(since).toISOString() };
    this.#o.record({
      type: 'zigbee2mqtt_offline',
      severity: 'error',
      subject,
      ts: at,
      data: alertData(data, offlineText(this.#base, since, at), incidentRef(incident, at, 'open')),
    });
  }

  #online(at: number): void {
    this.#clear(this.#offlineTimer);
    this.#offlineTimer = undefined;
    const subject = this.#subject();
    const closed = this.#o.incidents.close(Z2M_KIND, subject);
    if (!closed) return;
    const data = { base_topic: this.#base, offline_since: new Date(closed.since).toISOString() };
    this.#o.record({
      type: 'zigbee2mqtt_online',
      severity: 'info',
      subject,
      ts: at,
      data: alertData(
        data,
        onlineText(this.#base, closed.since, at),
        incidentRef(closed, at, 'closed'),
      ),
    });
  }

  #onInfo(m: IncomingMessage): void {
    if (m.payload.length === 0) return;
    const info = parseBridgeInfo(m.payload.toString('utf8'));
    if (info instanceof PayloadError) return this.#malformed(m.topic, info);
    const next = { version: info.version ?? null, coordinator: info.coordinator?.type ?? null };
    const changed =
      next.version !== this.#info.version || next.coordinator !== this.#info.coordinator;
    this.#info = next;
    this.#publish();
    if (changed) this.#o.infoChanged?.();
  }

  #onHealth(m: IncomingMessage): void {
    if (m.payload.length === 0) return;
    const health = parseBridgeHealth(m.payload.toString('utf8'));
    if (health instanceof PayloadError) return this.#malformed(m.topic, health);
    this.#healthy = health.healthy ?? null;
    this.#publish();
  }

  #onDevices(m: IncomingMessage): void {
    if (m.payload.length === 0) return;
    const devices = parseBridgeDevices(m.payload.toString('utf8'));
    if (devices instanceof PayloadError) return this.#malformed(m.topic, devices);
    this.#devices = devices;
    this.#stale?.keepOnly(devices);
    this.#publish();
  }

  #onDevice(m: IncomingMessage): void {
    const name = m.topic.slice(this.#base.length + 1);
    if (name === 'bridge') return;
    const seen = deviceLastSeen(m.payload.toString('utf8'));
    if (seen === undefined) return;
    if (this.#stale?.seen(name, seen, this.#devices)) this.#publish();
  }

  #recheck(): void {
    this.#recheckTimer = this.#o.clock.setTimeout(() => {
      this.#publish();
      this.#recheck();
    }, RECHECK_MS);
  }

  #malformed(topic: string, err: PayloadError): void {
    const key = `${topic}\u0000${err.field}\u0000${err.expected}`;
    if (this.#logged.has(key)) return;
    if (this.#logged.size >= 1000) this.#logged.clear();
    this.#logged.add(key);
    this.#o.log.warn(
      { topic, field: err.field || undefined, value: err.value, expected: err.expected },
      `Zigbee2MQTT payload ignored: ${err.toString()}`,
    );
  }

  #publish(): void {
    this.#o.publish(this.state());
  }

  #subject(): string {
    return `zigbee2mqtt/${this.#base}`;
  }

  #clear(t: TimerHandle | undefined): void {
    if (t) this.#o.clock.clearTimeout(t);
  }
}
