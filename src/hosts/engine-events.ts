import type { Backoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { engineError, type EngineApi } from './engine-api.js';
import { CONTAINER_ID } from './inspect-schema.js';

/** One container event from the engine's stream, reduced to what the agent acts on. */
export interface EngineEvent {
  readonly id: string;
  /** `die`, `health_status`, … (Docker's `health_status: healthy` suffix removed). */
  readonly action: string;
  /** The engine's time, ns since the epoch. */
  readonly timeNano: number;
  /** Clock time (ms) at which the line was read off the stream. */
  readonly receivedAt: number;
  /** `die`: the exit code the event carries (`Actor.Attributes.exitCode`, both engines). */
  readonly exitCode?: number;
  /**
   * `health_status`: the result it announces (Docker: the `health_status: healthy` suffix;
   * podman: its own `HealthStatus` field).
   */
  readonly health?: EventHealth;
}

/** The health results an event can announce. */
export type EventHealth = 'healthy' | 'unhealthy' | 'starting';
const HEALTH: ReadonlySet<string> = new Set(['healthy', 'unhealthy', 'starting']);

export interface EngineEventStreamOptions {
  api: EngineApi;
  clock: Clock;
  log: Logger;
  backoff: Backoff;
  onEvent(event: EngineEvent): void;
  /** Connected or reconnected: events may have been missed before, so reconcile now. */
  onConnected(): void;
  onDisconnected(err: OutpostError): void;
  /** A stream that lasted this long resets the backoff (default 30 s). */
  stableAfterMs?: number;
}

/** A line longer than this without a newline is not an event: the stream is corrupt. */
const MAX_LINE = 1 << 20;

/**
 * The engine's event stream, kept open: reconnects with the shared Backoff whenever it
 * ends, fails or carries something that is not an event.
 */
export class EngineEventStream {
  readonly #opts: EngineEventStreamOptions;
  #abort: AbortController | undefined;
  #timer: TimerHandle | undefined;
  #stopped = true;
  #connected = false;

  constructor(opts: EngineEventStreamOptions) {
    this.#opts = opts;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Resolves after the first connection attempt, whether it worked or not. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort();
    this.#abort = undefined;
    this.#connected = false;
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    const abort = new AbortController();
    this.#abort = abort;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.#opts.api.events(abort.signal);
    } catch (err) {
      if (this.#stopped || abort.signal.aborted) return;
      this.#lost(engineError(`${this.#opts.api.endpoint} GET /events`, err), undefined);
      return;
    }
    if (this.#stopped) {
      abort.abort();
      return;
    }
    this.#connected = true;
    this.#consume(stream, abort);
    this.#opts.onConnected();
  }

  #consume(stream: NodeJS.ReadableStream, abort: AbortController): void {
    const openedAt = this.#opts.clock.now();
    let buffered = '';
    let ended = false;
    const end = (err: OutpostError) => {
      if (ended) return;
      ended = true;
      abort.abort();
      if (!this.#stopped && this.#abort === abort) this.#lost(err, openedAt);
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        const event = parseEvent(line, this.#opts.clock.now());
        if (event instanceof OutpostError) return end(event);
        if (event) this.#opts.onEvent(event);
      }
      if (buffered.length > MAX_LINE) end(badStream('an event line longer than 1 MiB'));
    });
    const closed = (why: string) => () =>
      end(new OutpostError('ENGINE_UNREACHABLE', `event stream ${why}`, { retryable: true }));
    stream.on('end', closed('ended'));
    stream.on('close', closed('closed'));
    stream.on('error', (err: unknown) =>
      end(
        new OutpostError('ENGINE_UNREACHABLE', `event stream failed: ${errorMessage(err)}`, {
          retryable: true,
        }),
      ),
    );
  }

  #lost(err: OutpostError, openedAt: number | undefined): void {
    const { backoff, clock, log } = this.#opts;
    const wasConnected = this.#connected;
    this.#connected = false;
    if (openedAt !== undefined && clock.now() - openedAt >= (this.#opts.stableAfterMs ?? 30_000)) {
      backoff.reset();
    }
    const delay = backoff.next();
    log.debug({ err: err.message, delayMs: delay, wasConnected }, 'engine event stream lost');
    this.#opts.onDisconnected(err);
    this.#timer = clock.setTimeout(() => void this.#connect(), delay);
  }
}

function badStream(what: string): OutpostError {
  return new OutpostError('ENGINE_BAD_OUTPUT', `event stream carried ${what}`, {
    retryable: true,
  });
}

/** One line of the stream → an event, undefined to skip it, or an error for garbage. */
export function parseEvent(
  line: string,
  receivedAt: number,
): EngineEvent | undefined | OutpostError {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return badStream(`a line that is not JSON: ${JSON.stringify(line.slice(0, 60))}`);
  }
  if (typeof raw !== 'object' || raw === null)
    return badStream('a JSON value that is not an event');
  const e = raw as {
    Type?: unknown;
    Action?: unknown;
    status?: unknown;
    id?: unknown;
    Actor?: { ID?: unknown; Attributes?: Record<string, unknown> };
    time?: unknown;
    timeNano?: unknown;
    HealthStatus?: unknown;
  };
  if (e.Type !== undefined && e.Type !== 'container') return undefined;
  const action = typeof e.Action === 'string' ? e.Action : e.status;
  const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : e.id;
  if (typeof action !== 'string' || typeof id !== 'string' || !CONTAINER_ID.test(id)) {
    return undefined;
  }
  const timeNano =
    typeof e.timeNano === 'number'
      ? e.timeNano
      : typeof e.time === 'number'
        ? e.time * 1e9
        : Date.now() * 1e6;
  const [word, suffix] = action.split(':', 2).map((w) => w.trim());
  // podman's own API says `died`; its Docker-compatible one already says `die`.
  const name = word === 'died' ? 'die' : word!;
  const event: { -readonly [K in keyof EngineEvent]: EngineEvent[K] } = {
    id,
    action: name,
    timeNano,
    receivedAt,
  };
  if (name === 'die') {
    const code = e.Actor?.Attributes?.exitCode;
    if (typeof code === 'string' && /^\d{1,3}$/.test(code)) event.exitCode = Number(code);
  } else if (name === 'health_status') {
    const health = suffix ?? e.HealthStatus;
    if (typeof health === 'string' && HEALTH.has(health)) event.health = health as EventHealth;
  }
  return event;
}
