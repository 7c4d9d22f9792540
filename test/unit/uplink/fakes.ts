import { Buffer } from 'node:buffer';
import { ManualClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { IncomingMessage, MessageHandler, PublishOptions } from '../../../src/mqtt/types.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import type { UpstreamLink } from '../../../bridges/uplink/uplink-bridge.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/** 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);
export const log = silentLogger();

export interface Published {
  topic: string;
  payload: string;
  opts: PublishOptions;
  ack(): void;
  fail(err?: Error): void;
  settled: boolean;
}

/**
 * A protocol-faithful stand-in for an MqttLink to the upstream broker: records publishes,
 * PUBACKs them at once (autoAck) or on demand, and on `drop()` fails every unacknowledged
 * QoS 1 publish as mqtt.js does when a clean session's connection closes.
 */
export class FakeUpstream implements UpstreamLink {
  readonly sent: Published[] = [];
  connected = true;
  autoAck = true;
  started = 0;
  stopped = 0;
  /** Set by hold(), cleared by release(): the bridge's pause reaches the link. */
  held = false;
  readonly #listeners = new Set<() => void>();

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  start(): Promise<void> {
    this.started++;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped++;
    return Promise.resolve();
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions = {}): Promise<void> {
    if (!this.connected) throw new Error('the bridge must not publish while disconnected');
    return new Promise<void>((resolve, reject) => {
      const p: Published = {
        topic,
        payload: Buffer.from(payload).toString('utf8'),
        opts,
        settled: false,
        ack: () => {
          if (p.settled) return;
          p.settled = true;
          resolve();
        },
        fail: (err = new Error('Connection closed')) => {
          if (p.settled) return;
          p.settled = true;
          reject(err);
        },
      };
      this.sent.push(p);
      if (this.autoAck) p.ack();
    });
  }

  subscribe(_filter: string, _handler: MessageHandler): () => void {
    return () => undefined;
  }

  onConnect(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The connection closes: every unacknowledged publish fails. */
  drop(): void {
    this.connected = false;
    for (const p of this.sent) p.fail();
  }

  reconnect(): void {
    this.connected = true;
    for (const l of this.#listeners) l();
  }

  ackAll(): void {
    for (const p of this.sent) p.ack();
  }

  /** Event ids in the order they were published (events only). */
  ids(): string[] {
    return this.sent
      .filter((p) => p.topic.endsWith('/events'))
      .map((p) => (JSON.parse(p.payload) as { id: string }).id);
  }
}

/** Records incoming subscriptions and lets a test deliver local messages. */
export class FakeLocal extends FakeUpstream {
  readonly handlers = new Map<string, MessageHandler>();

  override subscribe(filter: string, handler: MessageHandler): () => void {
    this.handlers.set(filter, handler);
    return () => this.handlers.delete(filter);
  }

  deliver(topic: string, payload: string): void {
    const msg: IncomingMessage = { topic, payload: Buffer.from(payload), retain: true };
    for (const h of this.handlers.values()) h(msg);
  }
}

export function events(n: number, from = 0): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'container_down',
    severity: 'warning' as const,
    subject: `local/c-${(from + i) % 7}`,
    data: { n: from + i },
  }));
}

/** A real store in a temp dir, on a manual clock for its timestamps and maintenance. */
export async function tempStore(clock = new ManualClock(T0)) {
  const dir = await makeTempDir('uplink-unit');
  const store = SqliteEventStore.open({ dataDir: dir, node: 'site-a', clock });
  return {
    store,
    clock,
    dir,
    async close() {
      await store.close().catch(() => undefined);
      await removeTempDir(dir);
    },
  };
}

/** Lets promise chains and setImmediate callbacks (the store's group commit) run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Settles until `pred` holds; fails after `rounds` turns of the event loop. */
export async function until(pred: () => boolean, what: string, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (pred()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}
