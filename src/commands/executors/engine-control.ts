import { containerKey } from '../../collectors/containers/identity.js';
import { engineTime, healthOf, runState } from '../../collectors/containers/normalize.js';
import type { Clock } from '../../core/clock.js';
import { OutpostError } from '../../core/errors.js';
import { EngineApi, type ControlVerb } from '../../hosts/engine-api.js';
import { CONTAINER_ID, type InspectRecord } from '../../hosts/inspect-schema.js';

/**
 * How an executor acts on one host's container engine. Containers are addressed by the
 * engine's own id, looked up from the engine's listing by name: a name never reaches an
 * API path or a shell command.
 */
export type { ControlVerb };

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

/** The local path: the Docker Engine API (docker or podman's compatible service). */
export class ApiEngineControl implements EngineControl {
  readonly #api: EngineApi;

  constructor(opts: ApiEngineControlOptions) {
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
    await this.#api.control(verb, checkId(id), opts);
  }
}
