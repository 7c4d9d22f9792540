import { ERR_INVALID_AUTH } from 'home-assistant-js-websocket';
import WebSocket from 'ws';
import { HaError } from './errors.js';

/**
 * The websocket under home-assistant-js-websocket on Node 20, which has no global
 * WebSocket: a `ws` socket that has done HA's auth phase (developers.home-assistant.io,
 * "WebSocket API": `auth_required`, then `auth` with the token, then `auth_ok` or
 * `auth_invalid`), wrapped so that only well-formed messages reach the library. The
 * library `JSON.parse`s every message inside the socket's listener, where a malformed
 * one would throw out of the event loop and take the agent down.
 */

/** What the library's Connection uses of a socket (its HaWebSocket). */
export interface HaSocket {
  readonly OPEN: number;
  readonly readyState: number;
  haVersion: string;
  send(data: string): void;
  close(): void;
  addEventListener(type: string, fn: (ev: { data?: unknown }) => void): void;
  removeEventListener(type: string, fn: (ev: { data?: unknown }) => void): void;
}

export interface SocketOptions {
  readonly url: string;
  /** The long-lived access token. Sent in the `auth` message and nowhere else. */
  readonly token: string;
  /** Longest wait for the TCP/TLS open and for each auth step. */
  readonly timeoutMs: number;
  /** A message that is not JSON, or not an object with a `type` (`sample` is cut short). */
  onMalformed(sample: string): void;
  /** Every message heard, well-formed or not: the link's "HA is alive" signal. */
  onHeard(): void;
}

type Listener = (ev: { data?: unknown }) => void;

/** Opens the socket and authenticates; rejects with an HaError (`auth_invalid` is final). */
export function openHaSocket(o: SocketOptions): Promise<HaSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(o.url, { handshakeTimeout: o.timeoutMs, maxPayload: 64 * 1024 ** 2 });
    let settled = false;
    const fail = (err: HaError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    let timer = setTimeout(() => fail(timeout('the websocket to open')), o.timeoutMs);
    ws.on('error', (err) => fail(new HaError('unreachable', `${o.url}: ${err.message}`)));
    ws.on('close', (code) =>
      fail(new HaError('unreachable', `${o.url} closed the connection (${code}) before auth_ok`)),
    );
    ws.on('open', () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(timeout('auth_required / auth_ok')), o.timeoutMs);
    });
    const onAuthMessage = (raw: WebSocket.RawData) => {
      o.onHeard();
      const msg = parseMessage(raw);
      if (!msg || Array.isArray(msg)) {
        o.onMalformed(sample(raw));
        return;
      }
      if (msg.type === 'auth_required') {
        ws.send(JSON.stringify({ type: 'auth', access_token: o.token }));
      } else if (msg.type === 'auth_invalid') {
        const why = typeof msg.message === 'string' ? msg.message : 'no reason given';
        fail(new HaError('auth_invalid', `Home Assistant refused the token: ${why}`));
      } else if (msg.type === 'auth_ok') {
        settled = true;
        clearTimeout(timer);
        ws.off('message', onAuthMessage);
        ws.removeAllListeners('close');
        ws.removeAllListeners('error');
        const version = typeof msg.ha_version === 'string' ? msg.ha_version : 'unknown';
        resolve(new FilteredSocket(ws, version, o));
      } else {
        o.onMalformed(sample(raw));
      }
    };
    ws.on('message', onAuthMessage);
  });
}

/** The library's own "invalid auth" value: its reconnect stops on it. */
export const LIBRARY_AUTH_INVALID = ERR_INVALID_AUTH;

class FilteredSocket implements HaSocket {
  readonly OPEN = WebSocket.OPEN;
  haVersion: string;
  readonly #ws: WebSocket;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(ws: WebSocket, haVersion: string, o: SocketOptions) {
    this.#ws = ws;
    this.haVersion = haVersion;
    ws.on('message', (raw) => {
      o.onHeard();
      const text = rawText(raw);
      if (parseMessage(raw) === undefined) {
        o.onMalformed(sample(raw));
        return;
      }
      this.#emit('message', { data: text });
    });
    // ws emits close after an error; the error alone says nothing the close does not.
    ws.on('error', () => undefined);
    ws.on('close', () => this.#emit('close', {}));
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  send(data: string): void {
    this.#ws.send(data);
  }

  /** A dead peer never answers the closing handshake: cut the socket instead of waiting. */
  close(): void {
    this.#ws.terminate();
  }

  addEventListener(type: string, fn: Listener): void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
  }

  removeEventListener(type: string, fn: Listener): void {
    this.#listeners.get(type)?.delete(fn);
  }

  #emit(type: string, ev: { data?: unknown }): void {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) fn(ev);
  }
}

type Message = Record<string, unknown> & { type: string };

/** An object with a string `type`, or an array of them (HA's coalesced messages). */
function parseMessage(raw: WebSocket.RawData): Message | Message[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(rawText(raw));
  } catch {
    return undefined;
  }
  const ok = (m: unknown): m is Message =>
    m !== null &&
    typeof m === 'object' &&
    !Array.isArray(m) &&
    typeof (m as Message).type === 'string';
  if (Array.isArray(v)) return v.every(ok) ? v : undefined;
  return ok(v) ? v : undefined;
}

function rawText(raw: WebSocket.RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.from(raw).toString('utf8');
}

function sample(raw: WebSocket.RawData): string {
  const s = rawText(raw);
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

function timeout(what: string): HaError {
  return new HaError('timeout', `Home Assistant did not answer in time (${what})`);
}
