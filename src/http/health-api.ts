import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/units.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

/** One endpoint of the health API, contributed by a capability. */
export interface HealthReport {
  /** The last segment of `/api/health/<path>`. */
  readonly path: string;
  /** Built on each request from what the capability holds. */
  report(): unknown;
}

/**
 * A capability's own endpoints under a path prefix (the backups' pings, `/ping/`): it
 * answers every method and does its own checks; the rest of the API stays read-only.
 */
export interface HttpRoute {
  /** Starts and ends with `/`. */
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
}

/** The agent's own health for GET /healthz; `ok: false` answers 503. */
export interface AgentHealth {
  ok: boolean;
  [detail: string]: unknown;
}

export interface HealthApiOptions {
  /** `http.listen`; port 0 picks a free one (tests). */
  listen: ListenAddress;
  log: Logger;
  /** The capabilities' reports, each at `GET /api/health/<path>`. */
  reports: readonly HealthReport[];
  /** Default: always ok, with uptime. */
  agent?(): AgentHealth;
  /** The capabilities' own endpoints, each under its prefix. */
  routes?: readonly HttpRoute[];
}

/**
 * A small read-only HTTP endpoint (config `http`): each capability's report at
 * `GET /api/health/<path>` (the containers' at `/api/health/services`) for dashboards and
 * uptime checkers, `GET /healthz` for a container healthcheck of the agent.
 * Anything else is 404/405; it never changes state, so it needs no auth beyond `listen`.
 */
export class HealthApi implements Component {
  readonly name = 'http';
  readonly #opts: HealthApiOptions;
  readonly #startedAt = Date.now();
  readonly #routes: ReadonlyMap<string, HealthReport>;
  #server: Server | undefined;

  constructor(opts: HealthApiOptions) {
    this.#opts = opts;
    this.#routes = new Map(opts.reports.map((r) => [`/api/health/${r.path}`, r]));
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    // Keep-alive sockets would hold stop() until they time out.
    server.keepAliveTimeout = 1_000;
    const { host, port } = this.#opts.listen;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new OutpostError('HTTP_LISTEN', `http.listen ${host}:${port}: ${errorMessage(err)}`, {
            cause: err,
          }),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    this.#opts.log.info({ listen: this.address() }, 'health API listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Where it listens (the real port when `listen` asked for 0). */
  address(): { host: string; port: number } | undefined {
    const a = this.#server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const own = this.#opts.routes?.find((r) => path?.startsWith(r.prefix));
    if (own) return this.#own(own, req, res, path!);
    const route = path === '/healthz' ? 'healthz' : this.#routes.get(path ?? '');
    if (!route) return send(res, 404, { error: `no such endpoint: ${path}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: `method ${req.method} not allowed; use GET` });
    }
    try {
      if (route !== 'healthz') return send(res, 200, route.report());
      const agent = this.#opts.agent?.() ?? { ok: true };
      const body = { ...agent, uptime_s: Math.round((Date.now() - this.#startedAt) / 1000) };
      return send(res, agent.ok ? 200 : 503, body);
    } catch (err) {
      this.#opts.log.error({ path, err: errorMessage(err) }, 'health API handler failed');
      return send(res, 500, { error: 'internal error' });
    }
  }

  #own(route: HttpRoute, req: IncomingMessage, res: ServerResponse, path: string): void {
    try {
      route.handle(req, res, path);
    } catch (err) {
      this.#opts.log.error({ path, err: errorMessage(err) }, 'HTTP handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    }
  }
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : json);
}
