import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../core/clock.js';

/**
 * Who is asking (issue #20, point 2). A browser brings its token once (`?token=`), gets a
 * session cookie (HttpOnly, SameSite=Strict) and is redirected to the same page without
 * the token; a script sends `Authorization: Bearer <token>` on every request. Tokens are
 * compared in constant time against every user's, and are never stored or logged: a
 * session holds its user's name and a CSRF token, nothing more.
 */

export const SESSION_COOKIE = 'outpost_status';
/** How long a browser stays signed in without bringing its token again. */
export const SESSION_MS = 7 * 24 * 3600_000;
/** Sessions held at once; the oldest goes first (a LAN client minting many gets nothing). */
const MAX_SESSIONS = 256;

export interface StatusUser {
  readonly name: string;
  readonly token: string;
}

export interface Session {
  readonly id: string;
  readonly user: string;
  /** Sent back in every form: a cross-site page cannot read it. */
  readonly csrf: string;
  readonly expires: number;
  /** One message shown on the next page (the answer to an approval). */
  flash?: { readonly ok: boolean; readonly text: string };
}

/** Who the request is from: a user (by session or bearer), nobody, or a wrong token. */
export type Caller =
  | { readonly kind: 'user'; readonly user: string; readonly session?: Session }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'refused'; readonly why: string };

export class Access {
  readonly #users: readonly { name: string; digest: Buffer }[];
  readonly #sessions = new Map<string, Session>();
  readonly #clock: Clock;

  constructor(users: readonly StatusUser[], clock: Clock) {
    this.#users = users.map((u) => ({ name: u.name, digest: digest(u.token) }));
    this.#clock = clock;
  }

  /** Whether a token is needed at all: with no users (loopback only) the page is open. */
  get required(): boolean {
    return this.#users.length > 0;
  }

  /** The user whose token this is; every user's is compared, so timing tells nothing. */
  userOf(token: string): string | undefined {
    const d = digest(token);
    let found: string | undefined;
    for (const u of this.#users) if (timingSafeEqual(u.digest, d)) found ??= u.name;
    return found;
  }

  /** A new session for a user who brought a good token. */
  open(user: string): Session {
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value!;
      this.#sessions.delete(oldest);
    }
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrf: randomBytes(24).toString('base64url'),
      expires: this.#clock.now() + SESSION_MS,
    };
    this.#sessions.set(s.id, s);
    return s;
  }

  /** The session a cookie names, while it lasts. */
  session(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expires > this.#clock.now()) return s;
    this.#sessions.delete(id);
    return undefined;
  }

  close(id: string): void {
    this.#sessions.delete(id);
  }

  /** Who sent `req`: its bearer token first, then its session cookie. */
  caller(req: IncomingMessage): Caller {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer (\S+)$/i.exec(auth.trim());
      const user = m ? this.userOf(m[1]!) : undefined;
      if (user) return { kind: 'user', user };
      return {
        kind: 'refused',
        why: m ? 'wrong token' : 'expected "Authorization: Bearer <token>"',
      };
    }
    const session = this.session(cookie(req, SESSION_COOKIE));
    if (session) return { kind: 'user', user: session.user, session };
    if (!this.required) return { kind: 'anonymous' };
    return { kind: 'refused', why: 'no token' };
  }
}

/** The cookie that holds a session: not readable by scripts, never sent cross-site. */
export function sessionCookie(s: Session, path: string): string {
  const maxAge = Math.round(SESSION_MS / 1000);
  return `${SESSION_COOKIE}=${s.id}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict`;
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Equal in constant time (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Why a state-changing request may come from another site, or undefined when it comes
 * from this page: the browser's Fetch Metadata (`Sec-Fetch-Site`) must say same-origin and
 * an `Origin` must be this host. Another port on the same machine is same-site, not
 * same-origin: refused too. A client that sends neither (curl) has no cookies to abuse.
 */
export function crossSite(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `Sec-Fetch-Site is ${site}, expected same-origin`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const host = req.headers.host;
  if (origin === 'null' || host === undefined || !sameHost(origin, host)) {
    return `Origin ${origin} is not this page's (${host ?? 'no Host header'})`;
  }
  return undefined;
}

function sameHost(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    return o.protocol === 'http:' && o.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
