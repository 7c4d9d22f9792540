import type Docker from 'dockerode';
import { containerKey } from '../../collectors/containers/identity.js';
import { engineTime, healthOf, runState } from '../../collectors/containers/normalize.js';
import type { Clock } from '../../core/clock.js';
import { OutpostError } from '../../core/errors.js';
import { withDeadline } from '../../hosts/deadline.js';
import { DEFAULT_SOCKET, EngineApi, engineError } from '../../hosts/engine-api.js';
import { CONTAINER_ID, type InspectRecord } from '../../hosts/inspect-schema.js';

/**
 * How an executor acts on one host's container engine. Containers are addressed by the
 * engine's own id, looked up from the engine's listing by name: a name never reaches an
 * API path or a shell command.
 */
export type ControlVerb = 'restart' | 'start' | 'stop';

export interface ContainerRef {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly running: boolean;
  readonly startedAt: string | null;
  readonly exitCode: number;
  readonly health: string;
}

export interface ActOptions {
  /** Seconds the engine waits after SIGTERM before SIGKILL; the container's own when unset. */
  readonly stopTimeoutS?: number | undefined;
  readonly timeoutMs: number;
}

export interface EngineControl {
  /** The container named `name` (or with that compose key), if there is one. */
  find(name: string): Promise<ContainerRef | undefined>;
  inspect(id: string): Promise<ContainerRef | undefined>;
  act(verb: ControlVerb, id: string, opts: ActOptions): Promise<void>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export function refOf(r: InspectRecord): ContainerRef {
  const state = runState(r);
  return {
    id: r.Id,
    name: r.Name.replace(/^\/+/, ''),
    state,
    running: state === 'running',
    startedAt: engineTime(r.State.StartedAt),
    exitCode: r.State.ExitCode,
    health: healthOf(r),
  };
}

/** The exact name first, then the compose key; two candidates either way is ambiguous. */
export function findIn(records: readonly InspectRecord[], name: string): ContainerRef | undefined {
  const byName = records.filter((r) => r.Name.replace(/^\/+/, '') === name);
  const hits =
    byName.length > 0
      ? byName
      : records.filter(
          (r) => containerKey({ name: r.Name, labels: r.Config.Labels ?? {} }) === name,
        );
  if (hits.length > 1) {
    throw new OutpostError('ENGINE_BAD_OUTPUT', `${hits.length} containers answer to ${name}`);
  }
  return hits[0] ? refOf(hits[0]) : undefined;
}

export function checkId(id: string): string {
  if (!CONTAINER_ID.test(id)) {
    throw new OutpostError('ENGINE_BAD_OUTPUT', `refusing container id ${JSON.stringify(id)}`);
  }
  return id;
}

export interface ApiEngineControlOptions {
  socketPath?: string;
  url?: string;
  /** Deadline of listing and inspecting; acting has its own (ActOptions). */
  timeoutMs: number;
  clock: Clock;
}

let dockerode: Promise<typeof Docker> | undefined;
const loadDockerode = () => (dockerode ??= import('dockerode').then((m) => m.default));

/** The local path: the Docker Engine API (docker or podman's compatible service). */
export class ApiEngineControl implements EngineControl {
  readonly #api: EngineApi;
  readonly #opts: ApiEngineControlOptions;
  #docker: Docker | undefined;

  constructor(opts: ApiEngineControlOptions) {
    this.#opts = opts;
    this.#api = new EngineApi({
      ...(opts.url ? { url: opts.url } : {}),
      ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
      timeoutMs: opts.timeoutMs,
      clock: opts.clock,
    });
  }

  async find(name: string): Promise<ContainerRef | undefined> {
    return findIn(await this.#api.listAll(), name);
  }

  async inspect(id: string): Promise<ContainerRef | undefined> {
    const r = await this.#api.inspect(checkId(id));
    return r ? refOf(r) : undefined;
  }

  async act(verb: ControlVerb, id: string, opts: ActOptions): Promise<void> {
    const c = (await this.#client()).getContainer(checkId(id));
    const what = `${this.#api.endpoint} POST /containers/${id.slice(0, 12)}/${verb}`;
    try {
      await withDeadline(this.#opts.clock, opts.timeoutMs, what, (abortSignal) => {
        const t =
          opts.stopTimeoutS === undefined ? { abortSignal } : { t: opts.stopTimeoutS, abortSignal };
        if (verb === 'start') return c.start({ abortSignal });
        return verb === 'stop' ? c.stop(t) : c.restart(t);
      });
    } catch (err) {
      // 304: already started / already stopped, which is what was asked.
      if ((err as { statusCode?: unknown }).statusCode === 304) return;
      throw engineError(what, err);
    }
  }

  async #client(): Promise<Docker> {
    if (this.#docker) return this.#docker;
    const Dockerode = await loadDockerode();
    const { url, socketPath } = this.#opts;
    if (url) {
      const u = new URL(url);
      const protocol = u.protocol === 'https:' ? 'https' : 'http';
      const port = u.port || (protocol === 'https' ? '2376' : '2375');
      this.#docker = new Dockerode({ host: u.hostname, port, protocol });
    } else {
      this.#docker = new Dockerode({ socketPath: socketPath ?? DEFAULT_SOCKET });
    }
    return this.#docker;
  }
}
