import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import { Backoff } from '../core/backoff.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { OFFLINE, ONLINE, topicMatches } from '../core/topics.js';
import { OfflineQueue, type QueuedPublish } from './offline-queue.js';
import { connectMqtt } from './socket-client.js';
import type {
  IncomingMessage,
  MessageHandler,
  MqttPublisher,
  OutgoingPublish,
  PublishOptions,
} from './types.js';

export type ProtocolChoice = 'auto' | '5' | '3.1.1';

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  protocol: ProtocolChoice;
  /** Retained `online` on every connect, `offline` as last will and on stop; none for tools. */
  availabilityTopic?: string;
  keepaliveS: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  queueLimit: number;
  connectTimeoutMs?: number;
  log: Logger;
  clock?: Clock;
}

/** CONNACK codes meaning "I don't speak that version": 3.1.1 §3.2.2.3 (1), MQTT 5 §3.2.2.2 (132). */
const UNSUPPORTED_VERSION = new Set([1, 132]);
/** mqtt.js's trace hook when DEBUG is not set: takes no arguments, so none are collected. */
const NO_TRACE = (): void => undefined;

/** CONNACK codes that retrying will not fix (bad credentials, not authorized). */
const AUTH_FAILURES = new Set([4, 5, 134, 135]);

/**
 * The one MQTT client module: reconnects with capped, jittered backoff (mqtt.js only has
 * a fixed interval), publishes availability, resubscribes after every connect, and holds
 * publishes made while offline in a bounded queue.
 */
export class MqttLink implements MqttPublisher {
  readonly #opts: MqttLinkOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #queue: OfflineQueue;
  readonly #subs = new Map<string, { qos: 0 | 1; handlers: Set<MessageHandler> }>();
  readonly #connectListeners = new Set<() => void>();
  #client: MqttClient | undefined;
  #version: 4 | 5;
  #versionSettled: boolean;
  #connected = false;
  #stopping = false;
  #retryTimer: TimerHandle | undefined;
  /** hold(): no reconnect attempts; `#parked` says one is owed when released. */
  #held = false;
  #parked = false;
  #firstConnect: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(opts: MqttLinkOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'mqtt' });
    this.#clock = opts.clock ?? systemClock;
    this.#backoff = new Backoff({ initialMs: opts.reconnectMinMs, maxMs: opts.reconnectMaxMs });
    this.#queue = new OfflineQueue(opts.queueLimit);
    this.#version = opts.protocol === '3.1.1' ? 4 : 5;
    this.#versionSettled = opts.protocol !== 'auto';
  }

  get name(): string {
    return 'mqtt';
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The protocol in use: 5 or 4 (3.1.1). */
  get protocolVersion(): 4 | 5 {
    return this.#version;
  }

  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Connects. Resolves on the first successful connect, or after `waitMs` while the
   * link keeps retrying in the background (an agent must start without its broker).
   */
  async start(waitMs = 5000): Promise<void> {
    this.#stopping = false;
    const first = new Promise<void>(
      (resolve, reject) => (this.#firstConnect = { resolve, reject }),
    );
    this.#connect();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!this.#connected)
          this.#log.warn(
            { url: this.#opts.url },
            'broker not reachable yet; retrying in the background',
          );
        resolve();
      }, waitMs);
    });
    try {
      await Promise.race([first, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Publishes `offline`, flushes in-flight messages and disconnects. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.#stopping = true;
    this.#parked = false;
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    const availability = this.#opts.availabilityTopic;
    if (this.#connected && availability) {
      try {
        await withTimeout(
          client.publishAsync(availability, OFFLINE, { qos: 1, retain: true }),
          timeoutMs,
        );
      } catch (err) {
        this.#log.warn(
          { err: errorMessage(err) },
          'could not publish offline before disconnecting',
        );
      }
    }
    this.#connected = false;
    await withTimeout(client.endAsync(false), timeoutMs).catch(() => client.end(true));
    for (const q of this.#queue.drain())
      q.reject(new OutpostError('MQTT_NOT_CONNECTED', 'link stopped before the message was sent'));
  }

  /**
   * Stops reconnecting (the watchdog reports this link's network down: a flaky LTE link is
   * not hammered with attempts that cannot succeed). An open connection stays open; a lost
   * one is not retried until release().
   */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    if (this.#retryTimer) {
      this.#clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#parked = true;
    }
  }

  /** Ends hold(): a link that is down reconnects at once, its backoff starting over. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (!this.#parked || this.#stopping) return;
    this.#parked = false;
    this.#backoff.reset();
    this.#connect();
  }

  /** Whether hold() keeps the link from reconnecting. */
  get held(): boolean {
    return this.#held;
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const item: QueuedPublish = { topic, payload, opts, resolve, reject };
      if (this.#connected && this.#client) {
        this.#send(this.#client, item);
        return;
      }
      const dropped = this.#queue.push(
        item,
        (d) =>
          new OutpostError(
            'MQTT_NOT_CONNECTED',
            `offline queue full (${this.#opts.queueLimit}): dropped ${d.topic}`,
          ),
      );
      if (dropped > 0 && this.#queue.size === this.#opts.queueLimit) {
        this.#log.warn(
          { limit: this.#opts.queueLimit, dropped },
          'offline publish queue full: dropping the oldest messages',
        );
      }
    });
  }

  /**
   * Issue 15: a replay publishes tens of thousands of messages a second, and a promise, an
   * item and two closures per message were a measurable share of it. Connected, the batch
   * goes straight to mqtt.js with one shared callback; offline, message by message into the
   * offline queue as publish() does.
   */
  publishMany(messages: readonly OutgoingPublish[]): Promise<void> {
    const client = this.#client;
    if (!this.#connected || !client) {
      return Promise.all(messages.map((m) => this.publish(m.topic, m.payload, m.opts))).then(
        () => undefined,
      );
    }
    return new Promise<void>((resolve, reject) => {
      let left = messages.length;
      if (left === 0) return resolve();
      let failed = false;
      const done = (err?: Error): void => {
        if (failed) return;
        if (err) {
          failed = true;
          reject(publishFailed(`${messages.length} messages to ${messages[0]!.topic}`, err));
        } else if (--left === 0) resolve();
      };
      // mqtt.js copies the options and sets properties only on MQTT 5 (client.js publish),
      // so the caller's options go as they are.
      for (const m of messages) client.publish(m.topic, m.payload, m.opts, done);
    });
  }

  subscribe(filter: string, handler: MessageHandler, opts: { qos?: 0 | 1 } = {}): () => void {
    let sub = this.#subs.get(filter);
    if (!sub) {
      sub = { qos: opts.qos ?? 1, handlers: new Set() };
      this.#subs.set(filter, sub);
      if (this.#connected && this.#client) this.#subscribeOne(this.#client, filter, sub.qos);
    }
    sub.handlers.add(handler);
    return () => {
      const s = this.#subs.get(filter);
      if (!s) return;
      s.handlers.delete(handler);
      if (s.handlers.size === 0) {
        this.#subs.delete(filter);
        if (this.#connected && this.#client) {
          this.#client
            .unsubscribeAsync(filter)
            .catch((err: unknown) =>
              this.#log.warn({ filter, err: errorMessage(err) }, 'unsubscribe failed'),
            );
        }
      }
    };
  }

  onConnect(listener: () => void): () => void {
    this.#connectListeners.add(listener);
    return () => this.#connectListeners.delete(listener);
  }

  #clientOptions(): IClientOptions {
    const o = this.#opts;
    return {
      clientId: o.clientId,
      protocolVersion: this.#version,
      username: o.username,
      password: o.password,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      keepalive: o.keepaliveS,
      clean: true,
      reconnectPeriod: 0, // we reconnect ourselves, with backoff
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      queueQoSZero: false,
      resubscribe: false,
      // mqtt.js traces through `debug` about a dozen times per publish, each call building an
      // argument array even when tracing is off: ~2.9 KiB of garbage per message, a quarter
      // of what a publish allocates (issue 15). Off unless DEBUG asks for traces.
      log: process.env.DEBUG ? undefined : NO_TRACE,
      will: o.availabilityTopic
        ? { topic: o.availabilityTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true }
        : undefined,
    };
  }

  #connect(): void {
    if (this.#stopping) return;
    const client = connectMqtt(this.#opts.url, this.#clientOptions());
    this.#client = client;
    let refused = false;
    client.on('connect', () => this.#onConnected(client));
    client.on('message', (topic, payload, packet) => this.#dispatch(topic, payload, packet));
    client.on('error', (err: Error & { code?: number | string }) => {
      const code = typeof err.code === 'number' ? err.code : undefined;
      if (
        code !== undefined &&
        UNSUPPORTED_VERSION.has(code) &&
        !this.#versionSettled &&
        this.#version === 5
      ) {
        this.#log.info('broker does not speak MQTT 5; using 3.1.1');
        this.#version = 4;
        this.#versionSettled = true;
        refused = true;
        return;
      }
      if (code !== undefined && AUTH_FAILURES.has(code)) {
        this.#log.error(
          { url: this.#opts.url, code },
          `broker refused the connection: ${err.message}`,
        );
        this.#firstConnect?.reject(
          new OutpostError('MQTT_CONNECT', `broker refused the connection: ${err.message}`),
        );
        this.#firstConnect = undefined;
        return;
      }
      this.#log.warn({ url: this.#opts.url, err: err.message }, 'mqtt connection error');
    });
    client.on('close', () => {
      if (this.#client !== client) return;
      const was = this.#connected;
      this.#connected = false;
      if (was) this.#log.warn({ url: this.#opts.url }, 'disconnected from broker');
      if (this.#stopping) return;
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      if (this.#held) {
        this.#parked = true;
        return;
      }
      const delay = refused ? 0 : this.#backoff.next();
      this.#retryTimer = this.#clock.setTimeout(() => {
        this.#retryTimer = undefined;
        this.#connect();
      }, delay);
    });
  }

  #onConnected(client: MqttClient): void {
    if (this.#client !== client) return;
    this.#connected = true;
    this.#versionSettled = true;
    this.#backoff.reset();
    this.#log.info(
      { url: this.#opts.url, protocol: this.#version === 5 ? '5' : '3.1.1' },
      'connected to broker',
    );
    const dropped = this.#queue.takeDropped();
    if (dropped > 0)
      this.#log.warn({ dropped }, 'messages dropped from the offline queue while disconnected');
    if (this.#opts.availabilityTopic)
      client.publish(this.#opts.availabilityTopic, ONLINE, { qos: 1, retain: true });
    for (const [filter, sub] of this.#subs) this.#subscribeOne(client, filter, sub.qos);
    for (const item of this.#queue.drain()) this.#send(client, item);
    this.#firstConnect?.resolve();
    this.#firstConnect = undefined;
    for (const l of this.#connectListeners) {
      try {
        l();
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'connect listener failed');
      }
    }
  }

  #send(client: MqttClient, item: QueuedPublish): void {
    const { qos = 0, retain = false, properties } = item.opts;
    const opts: IClientPublishOptions = { qos, retain };
    if (this.#version === 5 && properties) opts.properties = properties;
    client.publish(item.topic, item.payload, opts, (err) => {
      if (err) item.reject(publishFailed(item.topic, err));
      else item.resolve();
    });
  }

  #subscribeOne(client: MqttClient, filter: string, qos: 0 | 1): void {
    client.subscribe(filter, { qos }, (err) => {
      if (err) this.#log.warn({ filter, err: err.message }, 'subscribe failed');
    });
  }

  #dispatch(
    topic: string,
    payload: Buffer,
    packet: { retain?: boolean; properties?: Record<string, unknown> },
  ): void {
    const props = packet.properties ?? {};
    const msg: IncomingMessage = {
      topic,
      payload,
      retain: packet.retain === true,
      responseTopic: typeof props.responseTopic === 'string' ? props.responseTopic : undefined,
      correlationData: Buffer.isBuffer(props.correlationData) ? props.correlationData : undefined,
      userProperties: props.userProperties as IncomingMessage['userProperties'],
    };
    for (const [filter, sub] of this.#subs) {
      if (!topicMatches(filter, topic)) continue;
      for (const h of sub.handlers) {
        try {
          h(msg);
        } catch (err) {
          // A bad message from outside never takes the agent down (STYLE.md §10).
          this.#log.error({ topic, err: errorMessage(err) }, 'message handler failed');
        }
      }
    }
  }
}

function publishFailed(what: string, err: Error): OutpostError {
  return new OutpostError('MQTT_NOT_CONNECTED', `publish to ${what} failed: ${err.message}`, {
    retryable: true,
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new OutpostError('TIMEOUT', `timed out after ${ms} ms`, { retryable: true })),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
