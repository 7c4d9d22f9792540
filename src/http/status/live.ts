import type { ServerResponse } from 'node:http';

/**
 * The page's live updates: server-sent events (`text/event-stream`). Each client gets the
 * page's main part again when it changed, and a comment line every `heartbeatMs` so a
 * proxy or a phone that dropped the connection is noticed. At most `maxClients` at once;
 * a client that does not read (its socket holds more than `maxBufferedBytes`) is cut off
 * rather than buffered for: the browser reconnects, and gets the page as it is then.
 */
export interface LiveOptions {
  readonly maxClients: number;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
}

export interface LiveClient {
  readonly res: ServerResponse;
  /** The last HTML sent, so an unchanged page is not sent again. */
  last: string | undefined;
  /** Renders this client's view (its own CSRF token in the forms). */
  readonly render: () => string;
  /** Whether the client may still see the page (its session lasts). */
  readonly valid: () => boolean;
}

export class LiveClients {
  readonly #o: LiveOptions;
  readonly #clients = new Set<LiveClient>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(o: LiveOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Takes the response over as an event stream, or answers 503 when full. */
  add(res: ServerResponse, render: () => string, valid: () => boolean): boolean {
    if (this.#clients.size >= this.#o.maxClients) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx and similar would otherwise hold the stream back.
      'x-accel-buffering': 'no',
    });
    // Tells EventSource how long to wait before reconnecting.
    res.write('retry: 3000\n\n');
    const client: LiveClient = { res, last: undefined, render, valid };
    this.#clients.add(client);
    res.once('close', () => this.#clients.delete(client));
    this.#send(client);
    this.#heartbeat ??= setInterval(() => this.#beat(), this.#o.heartbeatMs).unref();
    return true;
  }

  /** Sends each client its view if it changed. */
  refresh(): void {
    for (const c of this.#clients) this.#send(c);
  }

  /** Ends every stream (the agent stops). */
  close(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
  }

  #send(c: LiveClient): void {
    if (!c.valid()) return this.#drop(c);
    const html = c.render();
    if (html === c.last) return;
    c.last = html;
    this.#write(c, `event: state\ndata: ${JSON.stringify({ html })}\n\n`);
  }

  #beat(): void {
    for (const c of this.#clients) this.#write(c, ': heartbeat\n\n');
    if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  #write(c: LiveClient, chunk: string): void {
    if (c.res.writableLength > this.#o.maxBufferedBytes) return this.#drop(c);
    c.res.write(chunk);
  }

  #drop(c: LiveClient): void {
    this.#clients.delete(c);
    c.res.destroy();
  }
}
