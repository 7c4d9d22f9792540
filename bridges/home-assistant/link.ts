import type { Connection, ConnectionOptions, MessageBase } from 'home-assistant-js-websocket';
import { Backoff } from '../../src/core/backoff.js';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import { HaError, haFailure } from './errors.js';
import type { HaSocket } from './socket.js';

/** Where the link stands; `auth_failed` is final until the agent restarts. */
export type LinkStatus = 'connecting' | 'connected' | 'disconnected' | 'auth_failed' | 'stopped';

export interface LinkState {
  readonly status: LinkStatus;
  /** When it entered this status (epoch ms). */
  readonly since: number;
  /** When HA last said anything, a pong included. */
  readonly lastHeard: number | undefined;
  readonly haVersion: string | undefined;
  readonly lastError: string | undefined;
}

export interface LinkOptions {
  readonly url: string;
  /** Read once per connection attempt: the token never sits in a field that gets logged. */
  token(): string | undefined;
  readonly timeoutMs: number;
  readonly pingEveryMs: number;
  readonly reconnect: { initialMs: number; maxMs: number };
  readonly clock: Clock;
  readonly log: Logger;
  /** Every change of status. */
  onState(state: LinkState): void;
  /** Each new connection, after its subscriptions are back. */
  onConnected?(): void;
}

/** An HA event as `subscribe_events` delivers it. */
export interface HaEvent {
  readonly event_type: string;
  readonly data: Record<string, unknown>;
  readonly context?: { readonly user_id?: string | null };
}

interface Subscription {
  readonly eventType: string;
  readonly handler: (e: HaEvent) => void;
}

/**
 * The bridge's one websocket to Home Assistant (issue 18, point 1), on
 * home-assistant-js-websocket. Its own reconnect (a fixed 0–5 s, forever) is replaced by
 * the agent's capped, jittered backoff, and it stops for good on `auth_invalid`: a revoked
 * token stays revoked, and hammering HA with it would lock the user out (HA bans an IP
 * after failed logins). Every call has a deadline, and nothing here throws into the agent:
 * a failure is a status, a log line and a rejected promise for the caller.
 */
export class HaLink implements Component {
  readonly name = 'home-assistant-link';
  readonly #o: LinkOptions;
  readonly #backoff: Backoff;
  readonly #subs: Subscription[] = [];
  #conn: Connection | undefined;
  #state: LinkState;
  #timer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;
  #running = false;
  #malformed = 0;

  constructor(o: LinkOptions) {
    this.#o = o;
    this.#backoff = new Backoff(o.reconnect);
    this.#state = {
      status: 'disconnected',
      since: o.clock.now(),
      lastHeard: undefined,
      haVersion: undefined,
      lastError: undefined,
    };
  }

  /** Connects in the background: HA being down never holds the agent's start. */
  start(): Promise<void> {
    this.#running = true;
    this.#connect();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#running = false;
    this.#clearTimers();
    this.#drop();
    this.#set({ status: 'stopped' });
    return Promise.resolve();
  }

  get state(): LinkState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state.status === 'connected';
  }

  /** Listens to one HA event type, on this connection and every later one. */
  subscribe(eventType: string, handler: (e: HaEvent) => void): void {
    const sub = { eventType, handler };
    this.#subs.push(sub);
    if (this.#conn && this.connected) this.#subscribeOn(this.#conn, sub);
  }

  /** One command and its result, within the timeout. */
  async call<T = unknown>(message: MessageBase): Promise<T> {
    const conn = this.#conn;
    if (!conn || !this.connected) {
      throw new HaError('not_connected', 'not connected to Home Assistant');
    }
    let timer: TimerHandle | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.#o.clock.setTimeout(
        () =>
          reject(new HaError('timeout', `Home Assistant did not answer ${message.type} in time`)),
        this.#o.timeoutMs,
      );
    });
    try {
      return await Promise.race([conn.sendMessagePromise<T>(message), deadline]);
    } catch (err) {
      throw haFailure(err);
    } finally {
      if (timer) this.#o.clock.clearTimeout(timer);
    }
  }

  #connect(): void {
    if (!this.#running) return;
    const token = this.#o.token();
    if (!token) {
      this.#authFailed('the token environment variable is empty');
      return;
    }
    this.#set({ status: 'connecting' });
    this.#open(token).catch((err: unknown) => this.#retry(errorMessage(err)));
  }

  /**
   * The client library and `ws` are loaded at the first connection, not with the agent:
   * an agent without the bridge never holds them (issue 15: memory held by design).
   */
  async #open(token: string): Promise<void> {
    const [{ createConnection }, { LIBRARY_AUTH_INVALID, openHaSocket }] = await Promise.all([
      import('home-assistant-js-websocket'),
      import('./socket.js'),
    ]);
    const createSocket = async (): Promise<HaSocket> => {
      try {
        return await openHaSocket({
          url: this.#o.url,
          token,
          timeoutMs: this.#o.timeoutMs,
          onHeard: () => (this.#state = { ...this.#state, lastHeard: this.#o.clock.now() }),
          onMalformed: (s) => this.#onMalformed(s),
        });
      } catch (err) {
        // The library stops its own retries on its ERR_INVALID_AUTH value only.
        throw err instanceof HaError && err.code === 'auth_invalid' ? LIBRARY_AUTH_INVALID : err;
      }
    };
    // Our socket has what the library uses of a browser WebSocket (socket.ts, HaSocket).
    const options = { createSocket } as unknown as Partial<ConnectionOptions>;
    createConnection(options).then(
      (conn) => this.#connected(conn),
      (err: unknown) => {
        if (err === LIBRARY_AUTH_INVALID) this.#authFailed('auth_invalid');
        else this.#retry(errorMessage(err));
      },
    );
  }

  #connected(conn: Connection): void {
    if (!this.#running) {
      conn.close();
      return;
    }
    this.#conn = conn;
    this.#backoff.reset();
    // The library would reconnect on its own schedule: close it, and reconnect on ours.
    conn.addEventListener('disconnected', () => {
      if (this.#conn !== conn) return;
      this.#drop();
      this.#retry('the connection to Home Assistant was lost');
    });
    this.#set({ status: 'connected', haVersion: conn.haVersion, lastError: undefined });
    this.#o.log.info({ ha_version: conn.haVersion }, 'connected to Home Assistant');
    for (const sub of this.#subs) this.#subscribeOn(conn, sub);
    this.#schedulePing();
    this.#o.onConnected?.();
  }

  #subscribeOn(conn: Connection, sub: Subscription): void {
    const handler = (e: unknown) => {
      if (!isHaEvent(e)) {
        this.#onMalformed(JSON.stringify(e)?.slice(0, 120) ?? String(e));
        return;
      }
      try {
        sub.handler(e);
      } catch (err) {
        this.#o.log.warn(
          { err: errorMessage(err), event: sub.eventType },
          'HA event handler failed',
        );
      }
    };
    let timer: TimerHandle | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.#o.clock.setTimeout(
        () => reject(new HaError('timeout', `subscribe_events ${sub.eventType} timed out`)),
        this.#o.timeoutMs,
      );
    });
    Promise.race([conn.subscribeEvents(handler, sub.eventType), deadline])
      .catch((err: unknown) => {
        this.#o.log.warn({ err: errorMessage(err), event: sub.eventType }, 'HA subscribe failed');
        // A connection that cannot subscribe is no use: start over on a fresh one.
        if (this.#conn === conn) this.#reconnect('subscribe_events failed');
      })
      .finally(() => timer && this.#o.clock.clearTimeout(timer));
  }

  /** HA's websocket ping (`ping` / `pong`): a silent HA is a dead link, reconnected. */
  #schedulePing(): void {
    if (this.#pingTimer) this.#o.clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = this.#o.clock.setTimeout(() => {
      this.#pingTimer = undefined;
      const conn = this.#conn;
      if (!conn || !this.connected) return;
      this.call({ type: 'ping' }).then(
        () => this.#schedulePing(),
        (err: unknown) => {
          if (this.#conn === conn) this.#reconnect(`no pong: ${errorMessage(err)}`);
        },
      );
    }, this.#o.pingEveryMs);
  }

  #reconnect(why: string): void {
    this.#drop();
    this.#retry(why);
  }

  #retry(why: string): void {
    if (!this.#running) return;
    const delay = this.#backoff.next();
    this.#o.log.warn({ err: why, retry_in_ms: delay }, 'Home Assistant unreachable');
    this.#set({ status: 'disconnected', lastError: why });
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, delay);
  }

  #authFailed(why: string): void {
    this.#clearTimers();
    this.#drop();
    const message = `Home Assistant refused the token (${why}): the bridge stops retrying until the agent restarts with a valid token`;
    this.#o.log.error({ url: this.#o.url }, message);
    this.#set({ status: 'auth_failed', lastError: message });
  }

  #drop(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (this.#pingTimer) this.#o.clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    // close() marks it closed on purpose, so the library does not reconnect it.
    conn?.close();
  }

  #clearTimers(): void {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    if (this.#pingTimer) this.#o.clock.clearTimeout(this.#pingTimer);
    this.#timer = this.#pingTimer = undefined;
  }

  /** One warning for the first and then every 100th: a babbling HA must not flood the log. */
  #onMalformed(sample: string): void {
    if (this.#malformed++ % 100 === 0) {
      this.#o.log.warn(
        { sample, count: this.#malformed },
        'ignored a malformed message from Home Assistant: expected a JSON object with a "type"',
      );
    }
  }

  #set(change: Partial<LinkState>): void {
    const status = change.status ?? this.#state.status;
    const moved = status !== this.#state.status;
    this.#state = { ...this.#state, ...change, ...(moved ? { since: this.#o.clock.now() } : {}) };
    if (moved) this.#o.onState(this.#state);
  }
}

function isHaEvent(e: unknown): e is HaEvent {
  if (!e || typeof e !== 'object') return false;
  const { event_type, data } = e as Record<string, unknown>;
  return typeof event_type === 'string' && !!data && typeof data === 'object';
}
