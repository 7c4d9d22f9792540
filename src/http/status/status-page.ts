import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { ANONYMOUS } from '../../core/identity.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import { TokenBucket } from '../../core/token-bucket.js';
import { send, type HttpRoute } from '../health-api.js';
import {
  Access,
  crossSite,
  sameSecret,
  sessionCookie,
  type Caller,
  type StatusUser,
} from './access.js';
import { PAGE_HEADERS } from './assets.js';
import { LiveClients } from './live.js';
import { renderMain, renderPage, type Notice, type Viewer } from './render.js';
import { takeSnapshot, type StatusSnapshot, type StatusSources } from './snapshot.js';

export const STATUS_PREFIX = '/status/';
const ACTION_PATH = /^\/status\/actions\/([A-Za-z0-9_-]{1,64})\/(approve|reject)$/;
const MAX_BODY = 4096;

/** Remediation's answer to a decision (src/state/bus-events.ts `DecisionAnswer`). */
export interface DecisionResult {
  readonly ok: boolean;
  readonly status?: string;
  readonly code?: string;
  readonly message: string;
}

export interface StatusPageOptions {
  readonly users: readonly StatusUser[];
  readonly sources: StatusSources;
  /**
   * Decides a held action as `by` through remediation's policy and audit: main.ts emits
   * the bus's `decision`, as the Home Assistant bridge does.
   */
  decide(actionId: string, verdict: 'approve' | 'reject', by: string): Promise<DecisionResult>;
  readonly clock: Clock;
  readonly log: Logger;
  /** How often the live part is re-read while a browser watches; default 1 s. */
  readonly refreshMs?: number;
  /** Browsers watching at once; default 16. */
  readonly maxClients?: number;
  readonly heartbeatMs?: number;
}

/**
 * The local status page (issue #20, point 2) at `/status/` on the agent's HTTP listener:
 * the site at a glance, live over server-sent events, with approve / reject buttons for
 * held actions that go through remediation as `web:<user>`. docs/status-page.md says how
 * it is reached and what guards it.
 */
export class StatusPage implements Component, HttpRoute {
  readonly name = 'status-page';
  readonly prefix = STATUS_PREFIX;
  readonly #o: StatusPageOptions;
  readonly #access: Access;
  readonly #live: LiveClients;
  /** Refused approvals are audited, a flood of them only up to this. */
  readonly #refusals: TokenBucket;
  #snapshot: StatusSnapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;

  constructor(o: StatusPageOptions) {
    this.#o = o;
    this.#access = new Access(o.users, o.clock);
    this.#live = new LiveClients({
      maxClients: o.maxClients ?? 16,
      heartbeatMs: o.heartbeatMs ?? 15_000,
      maxBufferedBytes: 256 * 1024,
    });
    this.#refusals = new TokenBucket(0.2, 10, o.clock);
  }

  start(): Promise<void> {
    this.#timer = setInterval(() => void this.#refresh(), this.#o.refreshMs ?? 1000);
    this.#timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#live.close();
    return Promise.resolve();
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    this.#route(req, res, path).catch((err: unknown) => {
      this.#o.log.error({ path, err: errorMessage(err) }, 'status page failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const action = ACTION_PATH.exec(path);
    if (action) {
      if (req.method !== 'POST') return notAllowed(res, 'POST');
      return this.#decide(req, res, action[1]!, action[2] as 'approve' | 'reject');
    }
    const get =
      path === STATUS_PREFIX ||
      path === `${STATUS_PREFIX}events` ||
      path === `${STATUS_PREFIX}state.json`;
    if (!get) return send(res, 404, { error: `no such endpoint: ${path}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET, HEAD');
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    if (path === STATUS_PREFIX && url.searchParams.has('token')) {
      return this.#signIn(req, res, url.searchParams.get('token') ?? '');
    }
    const caller = this.#access.caller(req);
    if (caller.kind === 'refused') return this.#refuse(req, res, caller.why);
    const viewer = viewerOf(caller);
    if (path === `${STATUS_PREFIX}state.json`) return send(res, 200, await this.#read());
    if (path === `${STATUS_PREFIX}events`) return this.#stream(res, caller, viewer);
    const notice = caller.kind === 'user' ? caller.session?.flash : undefined;
    if (caller.kind === 'user' && caller.session) caller.session.flash = undefined;
    page(res, 200, renderPage(await this.#read(), viewer, notice));
  }

  /** `?token=` once: a session cookie, and the same page again without the token in it. */
  #signIn(req: IncomingMessage, res: ServerResponse, token: string): void {
    const user = this.#access.userOf(token);
    if (!user) return this.#refuse(req, res, 'wrong token');
    const session = this.#access.open(user);
    this.#o.log.info(
      { user: `web:${user}`, from: req.socket.remoteAddress },
      'status page sign-in',
    );
    res.writeHead(303, {
      location: STATUS_PREFIX,
      'set-cookie': sessionCookie(session, STATUS_PREFIX),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
  }

  #refuse(req: IncomingMessage, res: ServerResponse, why: string): void {
    this.#o.log.warn({ from: req.socket.remoteAddress, why }, 'status page refused');
    if (req.headers.authorization !== undefined || !acceptsHtml(req)) {
      return send(res, 401, { error: `unauthorized: ${why}` });
    }
    const text =
      why === 'no token'
        ? 'Open this page with the link that carries your token (/status/?token=…).'
        : 'That token is not valid.';
    page(res, 401, signInPage(text));
  }

  #stream(res: ServerResponse, caller: Caller, viewer: Viewer): void {
    const session = caller.kind === 'user' ? caller.session : undefined;
    const valid = () => !session || this.#access.session(session.id) !== undefined;
    const render = () => (this.#snapshot ? renderMain(this.#snapshot, viewer).text : '');
    if (!this.#live.add(res, render, valid)) {
      return send(res, 503, { error: 'too many live pages open; try again later' });
    }
  }

  async #decide(
    req: IncomingMessage,
    res: ServerResponse,
    actionId: string,
    verdict: 'approve' | 'reject',
  ): Promise<void> {
    const foreign = crossSite(req);
    if (foreign) {
      this.#o.log.warn(
        { from: req.socket.remoteAddress, why: foreign },
        'status page: cross-site request refused',
      );
      return send(res, 403, { error: `refused: ${foreign}` });
    }
    const caller = this.#access.caller(req);
    const form = await readForm(req);
    if (form === undefined)
      return send(res, 413, { error: `expected a form of at most ${MAX_BODY} bytes` });
    if (caller.kind === 'user' && caller.session) {
      const csrf = form.get('csrf') ?? '';
      if (!sameSecret(csrf, caller.session.csrf)) {
        this.#o.log.warn(
          { from: req.socket.remoteAddress, user: caller.user },
          'status page: CSRF token missing or wrong',
        );
        return send(res, 403, {
          error: 'refused: the form is stale or not from this page; reload it',
        });
      }
    }
    if (caller.kind === 'refused') {
      // Audited as anonymous (refused by the policy), up to a rate: a flood is only logged.
      this.#refusals.refill();
      if (this.#refusals.has()) {
        this.#refusals.take();
        await this.#o.decide(actionId, verdict, ANONYMOUS);
      }
      return this.#refuse(req, res, caller.why);
    }
    const by = caller.kind === 'user' ? `web:${caller.user}` : ANONYMOUS;
    const answer = await this.#o.decide(actionId, verdict, by);
    this.#o.log.info(
      { action_id: actionId, verdict, by, ok: answer.ok, code: answer.code },
      'status page decision',
    );
    void this.#refresh();
    const done = answer.ok || (verdict === 'reject' && answer.code === 'rejected');
    const notice: Notice = { ok: done, text: noticeText(verdict, actionId, answer) };
    if (caller.kind === 'user' && caller.session) {
      caller.session.flash = notice;
      res.writeHead(303, { location: STATUS_PREFIX, 'cache-control': 'no-store' });
      return void res.end();
    }
    const status = done ? 200 : answerStatus(answer.code);
    if (caller.kind === 'user') return send(res, status, answer);
    page(res, status, renderPage(await this.#read(), {}, notice));
  }

  /** A fresh snapshot (kept for the live streams). */
  async #read(): Promise<StatusSnapshot> {
    this.#snapshot = await takeSnapshot(this.#o.sources, this.#o.clock.now());
    return this.#snapshot;
  }

  async #refresh(): Promise<void> {
    if (this.#live.size === 0 || this.#reading) return;
    this.#reading = true;
    try {
      await this.#read();
      this.#live.refresh();
    } catch (err) {
      this.#o.log.warn({ err: errorMessage(err) }, 'status page refresh failed');
    } finally {
      this.#reading = false;
    }
  }
}

function viewerOf(c: Caller): Viewer {
  if (c.kind !== 'user') return {};
  return { user: c.user, ...(c.session ? { csrf: c.session.csrf } : {}) };
}

/** A refused decision's HTTP status: not allowed, no such action, or not pending any more. */
function answerStatus(code: string | undefined): number {
  return code === 'not_allowed' ? 403 : code === 'not_found' ? 404 : 409;
}

function noticeText(verdict: string, id: string, a: DecisionResult): string {
  if (a.ok && verdict === 'approve') return `Approved action ${id}: ${a.message}`;
  // A rejection done is answered as the action's end: not ok, code `rejected`.
  if (a.ok || a.code === 'rejected') return `Rejected action ${id}.`;
  return `Not ${verdict === 'approve' ? 'approved' : 'rejected'}: ${a.message}`;
}

function page(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function signInPage(text: string): string {
  return renderPage(
    {
      node: 'outpost',
      at: new Date().toISOString(),
      mqtt: false,
      hosts: [],
      containers: [],
      disks: [],
      watchdog: { missing: 'off' },
      backups: [],
      incidents: [],
      store: { missing: 'off' },
      pending: [],
    },
    {},
    { ok: false, text },
  ).replace(/<main>[\s\S]*<\/main>/, '<main></main>');
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  send(res, 405, { error: `method ${res.req.method} not allowed; use ${allow}` });
}

function acceptsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

/** A small urlencoded body (the CSRF token), or undefined when it is too big. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
