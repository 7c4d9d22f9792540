import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK_HOST } from '../config/http-users.js';
import type { ListenAddress } from '../config/units.js';
import { systemClock } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { Access, type StatusUser } from './status/access.js';

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
  /**
   * Whether anyone who reaches the listener may read the reports: true on loopback
   * (`http.listen`). When false, `/api/` needs a user's bearer token (`users`) and an
   * anonymous `/healthz` answers `{ ok }` alone. Default: whether `listen` is loopback.
   */
  open?: boolean;
  /** `http.users`: whose bearer token opens the reports when the listener is not open. */
  users?: readonly StatusUser[];
}

/**
 * A small read-only HTTP endpoint (config `http`): each capability's report at
 * `GET /api/health/<path>` (the containers' at `/api/health/services`) for dashboards and
 * uptime checkers, `GET /healthz` for a liveness check of the agent.
 * Anything else is 404/405; it never changes state. Bound off loopback, the reports (which
 * name hosts and containers) need a user's token, as the status page does; `/healthz`
 * stays open for liveness checks but tells an anonymous caller only `ok`.
 */
export class HealthApi implements Component {
  readonly name = 'http';
  readonly #opts: HealthApiOptions;
  readonly #startedAt = Date.now();
  readonly #routes: ReadonlyMap<string, HealthReport>;
  readonly #access: Access;
  readonly #open: boolean;
  #server: Server | undefined;

  constructor(opts: HealthApiOptions) {
    this.#opts = opts;
    this.#routes = new Map(opts.reports.map((r) => [`/api/health/${r.path}`, r]));
    this.#access = new Access(opts.users ?? [], systemClock);
    this.#open = opts.open ?? LOOPBACK_HOST.test(opts.listen.host);
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
    const reader = this.#reader(req);
    // Before the lookup, so a stranger cannot learn which capabilities are on.
    if (path !== '/healthz' && reader !== 'user') return refuse(res, reader);
    const route = path === '/healthz' ? 'healthz' : this.#routes.get(path ?? '');
    if (!route) return send(res, 404, { error: `no such endpoint: ${path}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: `method ${req.method} not allowed; use GET` });
    }
    try {
      if (route !== 'healthz') return send(res, 200, route.report());
      const agent = this.#opts.agent?.() ?? { ok: true };
      const uptime_s = Math.round((Date.now() - this.#startedAt) / 1000);
      const body = reader === 'user' ? { ...agent, uptime_s } : { ok: agent.ok };
      return send(res, agent.ok ? 200 : 503, body);
    } catch (err) {
      this.#opts.log.error({ path, err: errorMessage(err) }, 'health API handler failed');
      return send(res, 500, { error: 'internal error' });
    }
  }

  /** Who may read the reports: anyone on an open listener, else a user's bearer token. */
  #reader(req: IncomingMessage): 'user' | 'anonymous' | 'wrong token' {
    if (this.#open) return 'user';
    const auth = req.headers.authorization;
    if (auth === undefined) return 'anonymous';
    const m = /^Bearer (\S+)$/i.exec(auth.trim());
    return m && this.#access.userOf(m[1]!) !== undefined ? 'user' : 'wrong token';
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

/** 401 with no detail of what is served: the listener is reachable from the network. */
function refuse(res: ServerResponse, why: 'anonymous' | 'wrong token'): void {
  res.setHeader('www-authenticate', 'Bearer realm="outpost"');
  const expected = 'expected "Authorization: Bearer <token>" of a user in http.users';
  send(res, 401, { error: why === 'anonymous' ? expected : `wrong token; ${expected}` });
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
