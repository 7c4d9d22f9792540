import { systemClock, type Clock, type TimerHandle } from '../../src/core/clock.js';
import type { StoredEvent } from '../../src/core/events.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import type { TopicRoot } from '../../src/core/topics.js';
import type { MqttPublisher } from '../../src/mqtt/types.js';
import type { EventStore, WireRecord } from '../../src/store/event-store.js';
import {
  eventPayload,
  messageBytes,
  MqttDelivery,
  type OutgoingMessage,
} from '../../src/sinks/mqtt-event-sink.js';
import { SinkRunner, type SinkRunnerStatus } from '../../src/sinks/sink-runner.js';
import { LiveLane } from './live-lane.js';
import { Pacer, type RateLimits } from './rate-limit.js';
import { StateForwarder } from './state-forwarder.js';
import { TopicMap, uplinkStateTopic } from './topic-map.js';

/** The connection to the upstream broker: an MqttLink of its own. */
export interface UpstreamLink extends MqttPublisher {
  start(waitMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** No reconnect attempts until release() (see MqttLink.hold). */
  hold(): void;
  /** Reconnects at once if the link is down. */
  release(): void;
}

/** Where the uplink publishes its own state: the agent's StatePublisher (retained, deduped). */
export interface StateSink {
  set(topic: string, value: unknown): Promise<void>;
}

/** The uplink's state as published on `<base>/<node>/uplink` (retained JSON). */
export interface UplinkState {
  connected: boolean;
  /** Held by pause(): the watchdog reports the uplink down. */
  paused: boolean;
  /** Events not yet acknowledged by the upstream broker. */
  backlog: number;
  /** Age of the oldest of them in seconds; 0 when there is none. */
  oldest_unsent_age_s: number;
}

export interface UplinkBridgeOptions {
  store: EventStore;
  upstream: UpstreamLink;
  root: TopicRoot;
  /** Prepended to every topic upstream (`sites/<node>` from config by default; '' for none). */
  topicPrefix: string;
  limits: RateLimits;
  /** QoS 1 messages in flight upstream, at most (default 100). */
  window?: number;
  /** Where the uplink's own state goes; none when absent. */
  states?: StateSink;
  /** With `forwardStates`: the local link whose state topics are republished upstream. */
  local?: MqttPublisher;
  forwardStates?: boolean;
  /** How often the own state is refreshed (default 10 s; also on connect and pause). */
  stateEveryMs?: number;
  /** Live events remembered ahead of the replay, at most (default 1000). */
  liveLimit?: number;
  /** Cursor name (default `uplink`). */
  sinkName?: string;
  clock?: Clock;
  log: Logger;
}

/**
 * The uplink bridge (issue 4, point 4): forwards the event store to an upstream broker
 * through its own durable cursor, at least once (QoS 1, the event id in the payload and in
 * the MQTT 5 user property `event_id`), the replay in seq order and paced; fresh events
 * overtake a draining backlog (see LiveLane); optionally the node's state topics too.
 */
export class UplinkBridge implements Component {
  readonly name = 'uplink';
  readonly map: TopicMap;
  readonly #o: UplinkBridgeOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pacer: Pacer;
  readonly #runner: SinkRunner<WireRecord>;
  readonly #delivery: MqttDelivery<WireRecord>;
  readonly #live: LiveLane;
  readonly #forwarder: StateForwarder | undefined;
  readonly #eventsTopic: string;
  #paused = false;
  #running = false;
  #stateTimer: TimerHandle | undefined;
  #publishingState = false;
  #stateAgain = false;
  #unsubscribe: (() => void)[] = [];

  constructor(opts: UplinkBridgeOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log.child({ component: 'uplink' });
    this.map = new TopicMap(opts.root, opts.topicPrefix);
    this.#eventsTopic = this.map.events;
    this.#pacer = new Pacer(opts.limits, this.#clock);
    const ready = () => this.#ready();
    this.#live = new LiveLane({
      replay: () => {
        const st = this.#runner.status();
        return { read: st.readPosition, delivered: st.delivered };
      },
      ready,
      send: (e) => this.#sendLive(e),
      limit: opts.liveLimit ?? 1000,
    });
    const topic = this.#eventsTopic;
    // The replay sends wire records: the payload comes from the store ready to send, with
    // no event parsed or stringified (issue 15); live events are whole ones (LiveLane).
    this.#delivery = new MqttDelivery<WireRecord>({
      mqtt: opts.upstream,
      message: (r) => upstreamWireMessage(topic, r.id, r.payload),
      // Counting bytes costs a pass over the payload: only when a limit needs them.
      gate: this.#pacer.unlimited ? undefined : (m) => this.#pacer.take(messageBytes(m), 'replay'),
      claim: (e) => this.#live.claim(e.seq),
      // The InfluxDB history's samples stay on the site (issue 19).
      skip: (r) => r.historyOnly,
      open: () => !this.#paused,
    });
    const window = opts.window ?? 100;
    const name = opts.sinkName ?? 'uplink';
    this.#runner = new SinkRunner<WireRecord>({
      store: opts.store,
      name,
      read: (limit, after) => opts.store.readWireAfter(name, limit, after),
      window,
      batch: Math.max(1, Math.min(500, Math.ceil(window / 4))),
      startAt: 'oldest',
      clock: this.#clock,
      log: this.#log,
      deliver: this.#delivery.deliver,
    });
    if (opts.forwardStates && opts.local) {
      this.#forwarder = new StateForwarder({
        local: opts.local,
        upstream: opts.upstream,
        map: this.map,
        pacer: this.#pacer,
        ready,
        log: this.#log,
      });
    }
  }

  /** The upstream form of an event. */
  message(e: StoredEvent): OutgoingMessage {
    return upstreamMessage(this.#eventsTopic, e);
  }

  async start(): Promise<void> {
    // The cursor first: when the store cannot register it, nothing else has started.
    await this.#runner.start();
    this.#running = true;
    this.#unsubscribe.push(
      this.#o.store.onAppend((info) => this.#live.onAppend(info)),
      this.#o.upstream.onConnect(() => this.#refreshState()),
    );
    this.#forwarder?.start();
    // Not awaited: the agent starts without its uplink (offline first); the link retries.
    this.#o.upstream.start().catch((err: unknown) => {
      this.#log.error({ err: errorMessage(err) }, 'upstream broker refused the uplink');
    });
    this.#scheduleState(0);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    if (this.#stateTimer) this.#clock.clearTimeout(this.#stateTimer);
    this.#forwarder?.stop();
    // Whatever waits for the link or the pacer gives up; what is on the wire gets its
    // PUBACK (bounded by the runner's stop timeout) and the cursor records it.
    this.#delivery.close();
    this.#pacer.close();
    await this.#runner.stop();
    this.#live.clear();
    await this.#o.upstream.stop();
  }

  /**
   * Holds all sending and the upstream link's reconnect attempts (the watchdog reports the
   * uplink down); events keep piling up on disk.
   */
  pause(reason = 'paused'): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#runner.pause();
    this.#o.upstream.hold();
    this.#log.info({ reason }, 'uplink paused');
    this.#refreshState();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#log.info('uplink resumed');
    this.#o.upstream.release();
    this.#delivery.wake();
    this.#runner.resume();
    this.#forwarder?.flush();
    this.#refreshState();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The replay's cursor and counters, plus how many live events overtook it. */
  status(): SinkRunnerStatus & { overtook: number } {
    return { ...this.#runner.status(), overtook: this.#live.overtook };
  }

  /** The state as published on `<base>/<node>/uplink`. */
  async state(): Promise<UplinkState> {
    const b = await this.#runner.backlog();
    const age = b.oldestTs === undefined ? 0 : (this.#clock.now() - Date.parse(b.oldestTs)) / 1000;
    return {
      connected: this.#o.upstream.connected,
      paused: this.#paused,
      backlog: b.count,
      oldest_unsent_age_s: Math.max(0, Math.round(age)),
    };
  }

  #ready(): boolean {
    return this.#running && !this.#paused && this.#o.upstream.connected;
  }

  #sendLive(e: StoredEvent): Promise<void> {
    const m = this.message(e);
    const publish = () => {
      if (!this.#ready()) return Promise.reject(new Error('uplink not ready'));
      return this.#o.upstream.publish(m.topic, m.payload, m.opts);
    };
    const wait = this.#pacer.take(messageBytes(m), 'live');
    return wait ? wait.then(publish) : publish();
  }

  #scheduleState(ms: number): void {
    if (!this.#o.states || !this.#running) return;
    this.#stateTimer = this.#clock.setTimeout(() => {
      this.#refreshState();
      this.#scheduleState(this.#o.stateEveryMs ?? 10_000);
    }, ms);
  }

  #refreshState(): void {
    const states = this.#o.states;
    if (!states || !this.#running) return;
    if (this.#publishingState) {
      // Something changed while the last state was on its way: publish again after it.
      this.#stateAgain = true;
      return;
    }
    this.#publishingState = true;
    this.#stateAgain = false;
    this.state()
      .then((s) => states.set(uplinkStateTopic(this.#o.root), s))
      .catch((err: unknown) => {
        this.#log.warn({ err: errorMessage(err) }, 'uplink state not published');
      })
      .finally(() => {
        this.#publishingState = false;
        if (this.#stateAgain) this.#refreshState();
      });
  }
}

/**
 * An event as the central broker gets it on `topic` (the mapped events topic): the wire
 * JSON, QoS 1, not retained, and the id again in the MQTT 5 user property `event_id`, so a
 * downstream dedup can work from the properties without parsing the payload.
 */
export function upstreamMessage(topic: string, e: StoredEvent): OutgoingMessage {
  return upstreamWireMessage(topic, e.id, eventPayload(e));
}

/** upstreamMessage from the event's id and wire JSON (a store's WireRecord). */
export function upstreamWireMessage(topic: string, id: string, payload: string): OutgoingMessage {
  return {
    topic,
    payload,
    opts: { qos: 1, retain: false, properties: { userProperties: { event_id: id } } },
  };
}
