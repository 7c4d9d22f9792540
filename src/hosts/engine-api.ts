import type { Clock } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import { withDeadline } from './deadline.js';
import { EngineHttp, EngineHttpError, type EngineEndpoint } from './engine-http.js';
import { CONTAINER_ID, notJson, parseInspectOne, type InspectRecord } from './inspect-schema.js';

/**
 * A container engine through the Docker Engine API on a unix socket or TCP (EngineHttp).
 * podman's Docker-compatible API (`podman system service`) answers the same calls.
 * Every request has a deadline; answers are validated before anything uses them.
 */

export interface EngineApiOptions {
  /** A unix socket path, e.g. /var/run/docker.sock … */
  socketPath?: string;
  /** … or tcp://host:2375, http(s)://host:port. */
  url?: string;
  timeoutMs: number;
  clock: Clock;
  /** Parallel inspect requests during a full list (default 8). */
  concurrency?: number;
}

export type ControlVerb = 'restart' | 'start' | 'stop';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** Container event actions that can change what inspect says (docker and podman words). */
export const STATE_ACTIONS = new Set([
  'create',
  'start',
  'restart',
  'die',
  'stop',
  'kill',
  'oom',
  'pause',
  'unpause',
  'health_status',
  'rename',
  'update',
  // podman: after die, when the container's resources are released and State settles
  'cleanup',
  'init',
]);
/** Actions after which the container is gone: docker says destroy, podman remove. */
export const REMOVAL_ACTIONS = new Set(['destroy', 'remove']);

/** `GET /events` of containers only; the filter is fixed, so encoded once. */
const EVENTS_PATH = `/events?filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`;

export class EngineApi {
  readonly #http: EngineHttp;
  readonly #opts: EngineApiOptions;
  /** Where it points, for messages: `unix:///var/run/docker.sock`, `tcp://nas:2375`. */
  readonly endpoint: string;

  constructor(opts: EngineApiOptions) {
    this.#opts = opts;
    const target = endpointOf(opts);
    this.#http = new EngineHttp(target.endpoint);
    this.endpoint = target.label;
  }

  /** `docker 20.10.24` or `podman 4.3.1`. */
  async version(): Promise<string> {
    const v = await this.#json('GET /version', '/version');
    const components = (v as { Components?: { Name?: string; Version?: string }[] }).Components;
    const podman = components?.find((c) => /podman/i.test(c.Name ?? ''));
    if (podman) return `podman ${podman.Version ?? '?'}`;
    return `docker ${(v as { Version?: string }).Version ?? '?'}`;
  }

  /** The ids of every container, running or not. */
  async listIds(): Promise<string[]> {
    const what = 'GET /containers/json';
    return containerIds(
      await this.#json(what, '/containers/json?all=1'),
      `${this.endpoint} ${what}`,
    );
  }

  /** Every container (running or not), inspected: the full truth for a reconcile. */
  async listAll(): Promise<InspectRecord[]> {
    const ids = await this.listIds();
    const records = await mapLimit(ids, this.#opts.concurrency ?? 8, (id) => this.inspect(id));
    return records.filter((r): r is InspectRecord => r !== undefined);
  }

  /** One container, or undefined when it no longer exists. */
  async inspect(id: string): Promise<InspectRecord | undefined> {
    checkId(id);
    const what = `GET /containers/${id.slice(0, 12)}/json`;
    const source = `${this.endpoint} ${what}`;
    let body: Buffer;
    try {
      body = (await this.#call(what, 'GET', `/containers/${id}/json`)).body;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
    const text = body.toString();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw notJson(source, errorMessage(err), text.length, text.trimStart());
    }
    return parseInspectOne(value, source);
  }

  /** Starts, stops or restarts a container; `stopTimeoutS` is the engine's `t`. */
  async control(
    verb: ControlVerb,
    id: string,
    opts: { stopTimeoutS?: number | undefined; timeoutMs: number },
  ): Promise<void> {
    checkId(id);
    const what = `POST /containers/${id.slice(0, 12)}/${verb}`;
    const t = verb !== 'start' && opts.stopTimeoutS !== undefined ? `?t=${opts.stopTimeoutS}` : '';
    // 304 (already started / already stopped) is what was asked: EngineHttp passes it.
    await this.#call(what, 'POST', `/containers/${id}/${verb}${t}`, opts.timeoutMs);
  }

  /** The raw event stream of container events; the caller splits lines and reconnects. */
  async events(signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    // Only the connection gets the deadline: the stream itself is idle for hours.
    return this.#deadline('GET /events', this.#opts.timeoutMs, (connectSignal) =>
      this.#http.stream(EVENTS_PATH, AbortSignal.any([signal, connectSignal])),
    );
  }

  async #json(what: string, path: string): Promise<unknown> {
    const { body } = await this.#call(what, 'GET', path);
    return parseJson(body.toString(), `${this.endpoint} ${what}`);
  }

  #call(what: string, method: 'GET' | 'POST', path: string, timeoutMs = this.#opts.timeoutMs) {
    return this.#deadline(what, timeoutMs, (signal) => this.#http.call(method, path, signal));
  }

  async #deadline<T>(
    what: string,
    timeoutMs: number,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const label = `${this.endpoint} ${what}`;
    try {
      return await withDeadline(this.#opts.clock, timeoutMs, label, fn);
    } catch (err) {
      throw engineError(label, err);
    }
  }
}

/** The configured socket or URL → where EngineHttp connects, and how messages name it. */
function endpointOf(opts: EngineApiOptions): { endpoint: EngineEndpoint; label: string } {
  if (opts.url) {
    const u = new URL(opts.url);
    const tls = u.protocol === 'https:';
    const port = Number(u.port || (tls ? 2376 : 2375));
    // URL keeps IPv6 literals bracketed; the socket layer wants them bare.
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    return { endpoint: { host, port, tls }, label: `${u.protocol}//${u.hostname}:${port}` };
  }
  const socketPath = opts.socketPath ?? DEFAULT_SOCKET;
  return { endpoint: { socketPath }, label: `unix://${socketPath}` };
}

function checkId(id: string): void {
  if (!CONTAINER_ID.test(id)) {
    throw new OutpostError('ENGINE_BAD_OUTPUT', `refusing container id ${JSON.stringify(id)}`);
  }
}

function containerIds(value: unknown, source: string): string[] {
  if (!Array.isArray(value)) {
    throw new OutpostError('ENGINE_BAD_OUTPUT', `${source}: expected a list of containers`, {
      retryable: true,
    });
  }
  return value.map((c: unknown, i) => {
    const id = (c as { Id?: unknown } | null)?.Id;
    if (typeof id !== 'string' || !CONTAINER_ID.test(id)) {
      throw new OutpostError(
        'ENGINE_BAD_OUTPUT',
        `${source}: containers[${i}].Id: expected a container id of 12-64 hex digits, got ${JSON.stringify(id) ?? 'nothing'}`,
        { retryable: true },
      );
    }
    return id;
  });
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OutpostError(
      'ENGINE_BAD_OUTPUT',
      `${source}: answer is not valid JSON (${errorMessage(err)})`,
      { retryable: true },
    );
  }
}

/** The HTTP status behind an engine error, if the engine answered at all. */
function statusOf(err: unknown): number | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof EngineHttpError ? cause.statusCode : undefined;
}

/** Connection failures → ENGINE_UNREACHABLE; HTTP errors → ENGINE_COMMAND_FAILED. */
export function engineError(what: string, err: unknown): OutpostError {
  if (err instanceof OutpostError) return err;
  if (err instanceof EngineHttpError) {
    return new OutpostError(
      'ENGINE_COMMAND_FAILED',
      `${what}: engine answered ${err.statusCode}: ${err.message}`,
      { retryable: true, cause: err },
    );
  }
  return new OutpostError('ENGINE_UNREACHABLE', `${what}: ${errorMessage(err)}`, {
    retryable: true,
    cause: err,
  });
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
