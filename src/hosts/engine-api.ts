import type Docker from 'dockerode';
import type { Clock } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import { withDeadline } from './deadline.js';
import {
  CONTAINER_ID,
  parseInspectOne,
  parseInspectText,
  type InspectRecord,
} from './inspect-schema.js';

/**
 * A container engine through the Docker Engine API (dockerode) on a unix socket or TCP.
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

interface VersionCall {
  version(opts: { abortSignal: AbortSignal }): Promise<unknown>;
}

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

/**
 * dockerode loads grpc-js and protobufjs for BuildKit sessions when it is required, about
 * 25 MiB of RSS; it is imported on first use so an agent without a local engine never
 * pays for it.
 */
let dockerode: Promise<typeof Docker> | undefined;
const loadDockerode = () => (dockerode ??= import('dockerode').then((m) => m.default));

export class EngineApi {
  readonly #options: Docker.DockerOptions;
  #docker: Docker | undefined;
  readonly #opts: EngineApiOptions;
  /** Where it points, for messages: `unix:///var/run/docker.sock`, `tcp://nas:2375`. */
  readonly endpoint: string;

  constructor(opts: EngineApiOptions) {
    this.#opts = opts;
    if (opts.url) {
      const u = new URL(opts.url);
      const protocol = u.protocol === 'https:' ? 'https' : 'http';
      const port = u.port || (protocol === 'https' ? '2376' : '2375');
      this.#options = { host: u.hostname, port, protocol };
      this.endpoint = `${u.protocol}//${u.hostname}:${port}`;
    } else {
      const socketPath = opts.socketPath ?? DEFAULT_SOCKET;
      this.#options = { socketPath };
      this.endpoint = `unix://${socketPath}`;
    }
  }

  /** `docker 20.10.24` or `podman 4.3.1`. */
  async version(): Promise<string> {
    const docker = await this.#client();
    const v = await this.#call('GET /version', (signal) =>
      // dockerode takes options here too; its types only know the callback form.
      (docker as unknown as VersionCall).version({ abortSignal: signal }),
    );
    const components = (v as { Components?: { Name?: string; Version?: string }[] }).Components;
    const podman = components?.find((c) => /podman/i.test(c.Name ?? ''));
    if (podman) return `podman ${podman.Version ?? '?'}`;
    return `docker ${(v as { Version?: string }).Version ?? '?'}`;
  }

  /** Every container (running or not), inspected: the full truth for a reconcile. */
  async listAll(): Promise<InspectRecord[]> {
    const docker = await this.#client();
    const list = await this.#call('GET /containers/json', (signal) =>
      docker.listContainers({ all: true, abortSignal: signal } as object),
    );
    const ids = containerIds(list, `${this.endpoint} GET /containers/json`);
    const records = await mapLimit(ids, this.#opts.concurrency ?? 8, (id) => this.inspect(id));
    return records.filter((r): r is InspectRecord => r !== undefined);
  }

  /** One container, or undefined when it no longer exists. */
  async inspect(id: string): Promise<InspectRecord | undefined> {
    if (!CONTAINER_ID.test(id)) {
      throw new OutpostError('ENGINE_BAD_OUTPUT', `refusing container id ${JSON.stringify(id)}`);
    }
    const what = `GET /containers/${id.slice(0, 12)}/json`;
    const docker = await this.#client();
    try {
      const value = await this.#call(what, (signal) =>
        docker.getContainer(id).inspect({ abortSignal: signal } as object),
      );
      const source = `${this.endpoint} ${what}`;
      return parseInspectOne(decoded(value, source), source);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** The raw event stream of container events; the caller splits lines and reconnects. */
  async events(signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    // Only the connection gets the deadline: the stream itself is idle for hours.
    const docker = await this.#client();
    return this.#call('GET /events', (connectSignal) => {
      const both = AbortSignal.any([signal, connectSignal]);
      return docker.getEvents({
        filters: JSON.stringify({ type: ['container'] }),
        abortSignal: both,
      } as object);
    });
  }

  async #client(): Promise<Docker> {
    this.#docker ??= new (await loadDockerode())(this.#options);
    return this.#docker;
  }

  async #call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const label = `${this.endpoint} ${what}`;
    try {
      return await withDeadline(this.#opts.clock, this.#opts.timeoutMs, label, fn);
    } catch (err) {
      throw engineError(label, err);
    }
  }
}

/** docker-modem hands back a Buffer when an answer is not JSON; make that an error. */
function decoded(value: unknown, source: string): unknown {
  if (Buffer.isBuffer(value) || typeof value === 'string') {
    return parseInspectText(value.toString(), source);
  }
  return value;
}

function containerIds(list: unknown, source: string): string[] {
  const value = Buffer.isBuffer(list) ? parseJson(list.toString(), source) : list;
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
  const cause =
    err instanceof Error ? (err.cause as { statusCode?: unknown } | undefined) : undefined;
  return typeof cause?.statusCode === 'number' ? cause.statusCode : undefined;
}

/** Connection failures → ENGINE_UNREACHABLE; HTTP errors → ENGINE_COMMAND_FAILED. */
export function engineError(what: string, err: unknown): OutpostError {
  if (err instanceof OutpostError) return err;
  const e = err as { statusCode?: unknown; json?: { message?: string } | null };
  if (typeof e.statusCode === 'number') {
    const detail = e.json?.message ?? errorMessage(err);
    return new OutpostError(
      'ENGINE_COMMAND_FAILED',
      `${what}: engine answered ${e.statusCode}: ${detail}`,
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
