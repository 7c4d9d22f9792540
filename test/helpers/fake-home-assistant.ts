import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { LOOPBACK } from './ports.js';

/**
 * A FAKE Home Assistant: the websocket API at `/api/websocket` on 127.0.0.1, speaking HA's
 * real protocol (developers.home-assistant.io, "WebSocket API"): `auth_required`, `auth`,
 * `auth_ok` / `auth_invalid`; then commands with integer ids, each answered by a `result`
 * (or `pong`) echoing the id, and `event` messages for subscriptions. It implements the
 * commands the bridge uses (subscribe_events, unsubscribe_events, call_service, get_states,
 * config_entries/get, config/entity_registry/list, ping, supported_features), records
 * every message the bridge sends and checks each against the protocol: `violations` lists
 * what HA would have refused or misread, and a test expects it empty.
 */

export interface FakeServiceCall {
  readonly domain: string;
  readonly service: string;
  readonly service_data: Record<string, unknown>;
  /** When it arrived (epoch ms). */
  readonly at: number;
}

export interface FakeState {
  entity_id: string;
  state: string;
  attributes?: Record<string, unknown>;
  last_changed?: string;
}

export interface FakeConfigEntry {
  entry_id: string;
  domain: string;
  title: string;
  state: string;
  reason?: string | null;
}

export interface FakeRegistryEntry {
  entity_id: string;
  platform: string;
}

interface Client {
  readonly ws: WebSocket;
  authed: boolean;
  lastId: number;
  /** subscription id → event type (undefined: all events). */
  readonly subs: Map<number, string | undefined>;
}

const KNOWN = new Set([
  'ping',
  'subscribe_events',
  'unsubscribe_events',
  'call_service',
  'get_states',
  'config_entries/get',
  'config/entity_registry/list',
  'supported_features',
]);

export class FakeHomeAssistant {
  readonly haVersion = '2026.11.1';
  /** The long-lived tokens HA accepts; `revoke` empties it. */
  readonly tokens: Set<string>;
  /** Every message a client sent, after parsing, in order. */
  readonly received: Record<string, unknown>[] = [];
  /** Protocol mistakes in what clients sent. */
  readonly violations: string[] = [];
  readonly serviceCalls: FakeServiceCall[] = [];
  /** Services that exist, `domain.service`; a call to any other fails as HA's does. */
  readonly services = new Set<string>([
    'telegram_bot.answer_callback_query',
    'telegram_bot.send_message',
  ]);
  states: FakeState[] = [];
  configEntries: FakeConfigEntry[] = [];
  entityRegistry: FakeRegistryEntry[] = [];
  /** While true, nothing is answered (auth included): a hung HA. */
  silent = false;
  /** Delay before every result, ms (a slow HA). */
  resultDelayMs = 0;
  authAttempts = 0;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<Client>();
  #port = 0;

  private constructor(tokens: string[]) {
    this.tokens = new Set(tokens);
    this.#http = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    this.#wss = new WebSocketServer({ server: this.#http, path: '/api/websocket' });
    this.#wss.on('connection', (ws) => this.#accept(ws));
  }

  /** Starts on a free loopback port (or `port`, to come back where it was). */
  static async start(opts: { tokens: string[]; port?: number }): Promise<FakeHomeAssistant> {
    const ha = new FakeHomeAssistant(opts.tokens);
    await ha.#listen(opts.port ?? 0);
    return ha;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `ws://${LOOPBACK}:${this.#port}/api/websocket`;
  }

  /** Authenticated connections open now. */
  get connections(): number {
    return [...this.#clients].filter((c) => c.authed).length;
  }

  /** Event types some connection subscribed to. */
  subscribed(): string[] {
    return [...this.#clients].flatMap((c) => [...c.subs.values()].map((t) => t ?? '*'));
  }

  callsTo(service: string): FakeServiceCall[] {
    return this.serviceCalls.filter((c) => `${c.domain}.${c.service}` === service);
  }

  /** Fires an event on HA's bus: every matching subscription hears it. */
  fire(eventType: string, data: Record<string, unknown>, userId: string | null = null): void {
    const event = {
      event_type: eventType,
      data,
      origin: 'LOCAL',
      time_fired: new Date().toISOString(),
      context: { id: randomId(), parent_id: null, user_id: userId },
    };
    for (const c of this.#clients) {
      for (const [id, type] of c.subs) {
        if (type === undefined || type === eventType) {
          c.ws.send(JSON.stringify({ id, type: 'event', event }));
        }
      }
    }
  }

  /** Sends raw text to every authenticated client (malformed input). */
  sendRaw(text: string): void {
    for (const c of this.#clients) if (c.authed) c.ws.send(text);
  }

  /** The token stops working: open connections are cut, and reconnects get auth_invalid. */
  revoke(): void {
    this.tokens.clear();
    for (const c of this.#clients) c.ws.terminate();
  }

  /** An outage: the server goes away (connections cut, port closed). */
  async stop(): Promise<void> {
    for (const c of this.#clients) c.ws.terminate();
    this.#clients.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  /** Back after an outage, on the same port, with the same state and records. */
  async restart(): Promise<FakeHomeAssistant> {
    const next = new FakeHomeAssistant([...this.tokens]);
    next.received.push(...this.received);
    next.violations.push(...this.violations);
    next.serviceCalls.push(...this.serviceCalls);
    for (const s of this.services) next.services.add(s);
    next.states = this.states;
    next.configEntries = this.configEntries;
    next.entityRegistry = this.entityRegistry;
    await next.#listen(this.#port);
    return next;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(port, LOOPBACK, () => resolve());
    });
    this.#port = (this.#http.address() as AddressInfo).port;
  }

  #accept(ws: WebSocket): void {
    const client: Client = { ws, authed: false, lastId: 0, subs: new Map() };
    this.#clients.add(client);
    ws.on('close', () => this.#clients.delete(client));
    ws.on('error', () => undefined);
    if (!this.silent) this.#send(client, { type: 'auth_required', ha_version: this.haVersion });
    ws.on('message', (raw: Buffer) => this.#onMessage(client, raw.toString('utf8')));
  }

  #onMessage(c: Client, text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.violations.push(`not JSON: ${text.slice(0, 80)}`);
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
      this.violations.push(`no type: ${text.slice(0, 80)}`);
      return;
    }
    if (!c.authed) {
      this.#auth(c, msg);
      return;
    }
    this.received.push(msg);
    const id = msg.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id <= c.lastId) {
      // HA closes the connection on a reused or non-increasing id ("Identifier values have
      // to increase").
      this.violations.push(`id ${String(id)} after ${c.lastId} on ${msg.type}`);
      return;
    }
    c.lastId = id;
    if (!KNOWN.has(msg.type)) {
      this.violations.push(`unknown command ${msg.type}`);
      this.#result(c, id, false, undefined, {
        code: 'unknown_command',
        message: 'Unknown command.',
      });
      return;
    }
    if (this.silent) return;
    this.#command(c, id, msg);
  }

  #auth(c: Client, msg: Record<string, unknown>): void {
    if (msg.type !== 'auth' || typeof msg.access_token !== 'string') {
      this.violations.push(`expected auth first, got ${String(msg.type)}`);
      return;
    }
    this.authAttempts++;
    if (this.silent) return;
    if (!this.tokens.has(msg.access_token)) {
      this.#send(c, { type: 'auth_invalid', message: 'Invalid access token or password' });
      c.ws.close();
      return;
    }
    c.authed = true;
    this.#send(c, { type: 'auth_ok', ha_version: this.haVersion });
  }

  #command(c: Client, id: number, msg: Record<string, unknown>): void {
    switch (msg.type) {
      case 'ping':
        this.#later(() => this.#send(c, { id, type: 'pong' }));
        return;
      case 'supported_features':
        this.#result(c, id, true, null);
        return;
      case 'subscribe_events': {
        const et = msg.event_type;
        if (et !== undefined && typeof et !== 'string') {
          this.violations.push(`subscribe_events with event_type ${JSON.stringify(et)}`);
        }
        c.subs.set(id, typeof et === 'string' ? et : undefined);
        this.#result(c, id, true, null);
        return;
      }
      case 'unsubscribe_events': {
        const sub = msg.subscription;
        if (typeof sub !== 'number' || !c.subs.delete(sub)) {
          this.#result(c, id, false, undefined, {
            code: 'not_found',
            message: 'Subscription not found.',
          });
          return;
        }
        this.#result(c, id, true, null);
        return;
      }
      case 'get_states':
        this.#result(c, id, true, this.states);
        return;
      case 'config_entries/get':
        this.#result(c, id, true, this.configEntries);
        return;
      case 'config/entity_registry/list':
        this.#result(c, id, true, this.entityRegistry);
        return;
      case 'call_service':
        this.#callService(c, id, msg);
        return;
    }
  }

  #callService(c: Client, id: number, msg: Record<string, unknown>): void {
    const { domain, service } = msg;
    const data = msg.service_data ?? {};
    if (typeof domain !== 'string' || typeof service !== 'string' || typeof data !== 'object') {
      this.violations.push(`call_service without domain/service: ${JSON.stringify(msg)}`);
      this.#result(c, id, false, undefined, { code: 'invalid_format', message: 'bad call' });
      return;
    }
    if (!this.services.has(`${domain}.${service}`)) {
      this.#result(c, id, false, undefined, {
        code: 'not_found',
        message: `Service ${domain}.${service} not found.`,
      });
      return;
    }
    this.serviceCalls.push({
      domain,
      service,
      service_data: data as Record<string, unknown>,
      at: Date.now(),
    });
    this.#result(c, id, true, { context: { id: randomId(), parent_id: null, user_id: null } });
  }

  #result(
    c: Client,
    id: number,
    success: boolean,
    result: unknown,
    error?: { code: string; message: string },
  ): void {
    const msg = success
      ? { id, type: 'result', success, result }
      : { id, type: 'result', success, error };
    this.#later(() => this.#send(c, msg));
  }

  /** Now, or after `resultDelayMs`: a slow HA is slow at everything. */
  #later(fn: () => void): void {
    if (this.resultDelayMs > 0) setTimeout(fn, this.resultDelayMs);
    else fn();
  }

  #send(c: Client, msg: unknown): void {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(msg));
  }
}

function randomId(): string {
  return Math.random().toString(36).slice(2, 14).toUpperCase();
}
