import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { send, type HttpRoute } from '../../http/health-api.js';
import type { Report, ReportIntake } from './reports.js';
import { Tail } from './tail.js';

/** The body kept as the message: its last 10 KiB (the end of a log says what happened). */
export const MAX_PING_BODY = 10 * 1024;

/**
 * Healthchecks-style pings (issue #17), so a cron script or a Kubernetes CronJob reports
 * with one line of shell: `curl -fsS -m 10 http://<agent>:<port>/ping/<job>` for success,
 * `/ping/<job>/start`, `/ping/<job>/fail`, `/ping/<job>/<exit-code>` (0 is success), any
 * method, an optional body kept as the message. With a token configured, a ping carries it
 * (`Authorization: Bearer …` or `?token=…`), compared in constant time.
 */
export class HttpPings implements HttpRoute {
  readonly prefix = '/ping/';
  readonly #intake: ReportIntake;
  readonly #token: Buffer | undefined;
  readonly #log: Logger;

  constructor(opts: { intake: ReportIntake; token: string | undefined; log: Logger }) {
    this.#intake = opts.intake;
    this.#token = opts.token === undefined ? undefined : digest(opts.token);
    this.#log = opts.log;
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    const from = req.socket.remoteAddress ?? 'unknown';
    if (!this.#authorized(req)) {
      this.#log.warn({ from, path }, 'backup ping refused: bad or missing token');
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, {
        ok: false,
        error: {
          code: 'unauthorized',
          field: 'token',
          message: 'expected the ping token as "Authorization: Bearer <token>" or ?token=',
        },
      });
    }
    const parts = path.slice(this.prefix.length).split('/');
    const job = decoded(parts[0] ?? '');
    const status = statusOf(parts.slice(1));
    if (!status || job === '') {
      return send(res, 404, {
        ok: false,
        error: {
          code: 'not_found',
          field: 'path',
          message: `expected /ping/<job>, /ping/<job>/start, /ping/<job>/fail or /ping/<job>/<exit code 0-255>, got ${path.slice(0, 200)}`,
        },
      });
    }
    const body = new Tail(MAX_PING_BODY);
    req.on('data', (c: Buffer) => body.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const message = body.text().trim();
      const report: Report = { ...status, ...(message !== '' ? { message } : {}) };
      const refusal = this.#intake.apply(job, report, 'http', from);
      if (refusal) {
        this.#log.warn({ job, from, error: refusal }, 'backup ping refused');
        return send(res, refusal.code === 'not_found' ? 404 : 409, {
          ok: false,
          job,
          error: refusal,
        });
      }
      send(res, 200, { ok: true, job, status: report.status });
    });
  }

  #authorized(req: IncomingMessage): boolean {
    if (!this.#token) return true;
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ')
      ? header.slice('Bearer '.length).trim()
      : undefined;
    const query = new URL(req.url ?? '/', 'http://agent').searchParams.get('token') ?? undefined;
    const given = bearer ?? query;
    // Digests of equal length: timingSafeEqual needs it, and the length leaks nothing.
    return given !== undefined && timingSafeEqual(digest(given), this.#token);
  }
}

/** The report a ping's path after the job says. */
function statusOf(rest: readonly string[]): Pick<Report, 'status' | 'exit_code'> | undefined {
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return { status: 'success' };
  if (rest.length !== 1) return undefined;
  const word = rest[0]!;
  if (word === 'start') return { status: 'start' };
  if (word === 'fail') return { status: 'fail' };
  if (!/^\d{1,3}$/.test(word) || Number(word) > 255) return undefined;
  const code = Number(word);
  return { status: code === 0 ? 'success' : 'fail', exit_code: code };
}

/** A path segment decoded, or '' when its %-escapes are malformed (then: not found). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
