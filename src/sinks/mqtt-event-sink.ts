import { Buffer } from 'node:buffer';
import type { Clock } from '../core/clock.js';
import { toWireEvent, type StoredEvent } from '../core/events.js';
import { OutpostError } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { topics, type TopicRoot } from '../core/topics.js';
import type { MqttPublisher, OutgoingPublish, PublishOptions } from '../mqtt/types.js';
import type { Backlog, EventStore, WireRecord } from '../store/event-store.js';
import { SinkRunner, type SinkRunnerStatus } from './sink-runner.js';

/** The MQTT form of an event: the wire JSON (id, ts, node, type, severity, subject, data). */
export function eventPayload(e: StoredEvent): string {
  return JSON.stringify(toWireEvent(e));
}

/** One event as it goes out. */
export type OutgoingMessage = OutgoingPublish;

/** Topic plus payload bytes: what a byte rate limit counts. */
export function messageBytes(m: OutgoingMessage): number {
  return Buffer.byteLength(m.topic) + Buffer.byteLength(m.payload);
}

export interface MqttDeliveryOptions<T extends { readonly seq: number } = StoredEvent> {
  mqtt: MqttPublisher;
  message: (e: T) => OutgoingMessage;
  /** Paces publishing: resolves when `m` may go; undefined when it may go now. */
  gate?: (m: OutgoingMessage) => Promise<void> | undefined;
  /** The ack of an event another lane already published: awaited instead of publishing. */
  claim?: (e: T) => Promise<void> | undefined;
  /** False while publishing must wait although the link is up (a pause); then call wake(). */
  open?: () => boolean;
  /** Records not to publish, delivered all the same (history-only events: `isHistoryOnly`). */
  skip?: (e: T) => boolean;
}

const NOOP = (): void => undefined;

/**
 * A SinkRunner `deliver` for MQTT QoS 1 that keeps seq order across batches in flight and
 * across reconnects. Batches publish one after another; nothing is published while the
 * link is down (the link's offline queue would replay it ahead of a failed earlier event);
 * and once a batch fails or the link reconnects under it, the batches queued behind it
 * publish nothing more, so the runner's re-delivery from the first unacknowledged event is
 * the next thing the broker sees.
 */
export class MqttDelivery<T extends { readonly seq: number } = StoredEvent> {
  readonly #o: MqttDeliveryOptions<T>;
  #chain: Promise<unknown> = Promise.resolve();
  /** Bumped by a failure or a reconnect: batches started before it stop publishing. */
  #epoch = 0;
  /** Something was published in this epoch (so a reconnect may have lost it). */
  #sentInEpoch = false;
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #closed = false;
  readonly #offConnect: () => void;

  constructor(opts: MqttDeliveryOptions<T>) {
    this.#o = opts;
    this.#offConnect = opts.mqtt.onConnect(() => {
      // A clean session drops whatever was in flight on the old connection.
      if (this.#sentInEpoch) this.#newEpoch(this.#epoch);
      this.wake();
    });
  }

  readonly deliver = (events: readonly T[]): Promise<void> => {
    const epoch = this.#epoch;
    const sent = this.#chain.then(() => this.#send(events, epoch));
    this.#chain = sent.catch(NOOP);
    // One handler per batch rather than per message: at tens of thousands of events per
    // second, a promise per message is a measurable share of the work.
    return sent
      .then((acks) => Promise.all(acks))
      .then(NOOP, (err: unknown) => {
        this.#newEpoch(epoch);
        throw err;
      });
  };

  /** Re-checks whether publishing may continue (after a resume). */
  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Fails every delivery still waiting to publish. */
  close(): void {
    this.#closed = true;
    this.#offConnect();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(stopped());
  }

  #newEpoch(from: number): void {
    if (this.#epoch !== from) return;
    this.#epoch++;
    this.#sentInEpoch = false;
  }

  async #send(events: readonly T[], epoch: number): Promise<Promise<void>[]> {
    const acks: Promise<void>[] = [];
    // Messages that may go now, published together (one promise for the run, issue 15)
    // before anything is awaited, so the wire order is the seq order.
    let run: OutgoingMessage[] = [];
    const flush = () => {
      if (run.length === 0) return;
      acks.push(this.#publishRun(run));
      run = [];
    };
    let observed = 0;
    // Acks get their handler from the caller once the loop returns, within the same turn;
    // before the loop yields to wait, the acks so far get one, or a failure meanwhile would
    // count as an unhandled rejection.
    const waitFor = (wait: Promise<void>) => {
      flush();
      if (observed < acks.length) void Promise.allSettled(acks.slice(observed));
      observed = acks.length;
      return wait;
    };
    try {
      for (const e of events) {
        if (this.#o.skip?.(e)) continue;
        const claimed = this.#o.claim?.(e);
        if (claimed) {
          acks.push(claimed);
          continue;
        }
        const m = this.#o.message(e);
        // Awaited only when there is something to wait for: an await per event is a
        // measurable share of a replay at tens of thousands of events per second.
        let wait = this.#ready();
        if (wait) await waitFor(wait);
        wait = this.#o.gate?.(m);
        if (wait) await waitFor(wait);
        wait = this.#ready();
        if (wait) await waitFor(wait);
        if (epoch !== this.#epoch) {
          throw new OutpostError('MQTT_NOT_CONNECTED', 'an earlier event of this stream failed', {
            retryable: true,
          });
        }
        this.#sentInEpoch = true;
        run.push(m);
      }
      flush();
    } catch (err) {
      // What was published before the abort settles unobserved; never as unhandled.
      void Promise.allSettled(acks);
      throw err;
    }
    return acks;
  }

  #publishRun(run: readonly OutgoingMessage[]): Promise<void> {
    const mqtt = this.#o.mqtt;
    if (mqtt.publishMany) return mqtt.publishMany(run);
    return Promise.all(run.map((m) => mqtt.publish(m.topic, m.payload, m.opts))).then(NOOP);
  }

  #ready(): Promise<void> | undefined {
    if (this.#closed) return Promise.reject(stopped());
    if (this.#o.mqtt.connected && (this.#o.open?.() ?? true)) return undefined;
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject })).then(
      () => this.#ready(),
    );
  }
}

function stopped(): OutpostError {
  return new OutpostError('MQTT_NOT_CONNECTED', 'stopped before the event was published', {
    retryable: true,
  });
}

export interface MqttEventSinkOptions {
  store: EventStore;
  /** The agent's link to its local broker. */
  mqtt: MqttPublisher;
  root: TopicRoot;
  log: Logger;
  clock?: Clock;
  /** Cursor name (default `mqtt-events`). */
  name?: string;
  /** Events published and not yet PUBACKed, at most (default 100). */
  window?: number;
  /**
   * Where a first run starts (default `now`): the local stream drives Home Assistant's
   * alert entity, which should not fire for every event stored before the sink existed.
   * Once registered, the durable cursor resumes where it was, so an outage loses nothing.
   */
  startAt?: 'oldest' | 'now';
}

/**
 * The local event stream (DESIGN.md "Topics": `<base>/<node>/events`, one JSON event per
 * message, QoS 1, not retained), fed from the store through its own cursor, which moves
 * on PUBACK.
 */
export class MqttEventSink implements Component {
  readonly name: string;
  readonly #runner: SinkRunner<WireRecord>;
  readonly #delivery: MqttDelivery<WireRecord>;

  constructor(opts: MqttEventSinkOptions) {
    const name = opts.name ?? 'mqtt-events';
    this.name = name;
    const topic = topics.events(opts.root);
    const publish: PublishOptions = { qos: 1, retain: false };
    // Wire records, not events: the payload comes from the store ready to send (issue 15).
    this.#delivery = new MqttDelivery<WireRecord>({
      mqtt: opts.mqtt,
      message: (r) => ({ topic, payload: r.payload, opts: publish }),
      // The InfluxDB history's samples stay off the event topic (issue 19).
      skip: (r) => r.historyOnly,
    });
    const window = opts.window ?? 100;
    this.#runner = new SinkRunner({
      store: opts.store,
      name: this.name,
      window,
      batch: Math.min(window, 50),
      startAt: opts.startAt ?? 'now',
      clock: opts.clock,
      log: opts.log,
      deliver: this.#delivery.deliver,
      read: (limit, after) => opts.store.readWireAfter(name, limit, after),
    });
  }

  start(): Promise<void> {
    return this.#runner.start();
  }

  async stop(): Promise<void> {
    this.#delivery.close();
    await this.#runner.stop();
  }

  status(): SinkRunnerStatus {
    return this.#runner.status();
  }

  backlog(): Promise<Backlog> {
    return this.#runner.backlog();
  }
}
