import type { Clock } from '../../core/clock.js';
import { errorMessage, type OutpostError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ContainerCollectorOutput, ContainerSink, HostReach } from './types.js';

/**
 * Unreachable: the agent could not talk to the engine (or the host) at all. Degraded: it
 * could, but the answer was unusable or late. Either way the containers' last known state
 * is kept and marked unknown; the difference tells the operator where to look.
 */
export function reachOf(err: OutpostError): HostReach {
  switch (err.code) {
    case 'ENGINE_UNREACHABLE':
    case 'SSH_CONNECT':
    case 'SSH_HOST_KEY':
    case 'SSH_DISCONNECTED':
      return 'unreachable';
    default:
      return 'degraded';
  }
}

/** Hands an output to the sink; a throwing sink is logged, never fatal to the collector. */
export function emitSafely(
  opts: { sink: ContainerSink; log: Logger },
  output: ContainerCollectorOutput,
): void {
  try {
    opts.sink(output);
  } catch (err) {
    opts.log.error({ host: output.host, err: errorMessage(err) }, 'container sink failed');
  }
}

/** Emits a host status output when status, message or engine change; logs the change. */
export class HostStatusReporter {
  readonly #host: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sink: ContainerSink;
  #last: string | undefined;

  constructor(host: string, clock: Clock, log: Logger, sink: ContainerSink) {
    this.#host = host;
    this.#clock = clock;
    this.#log = log;
    this.#sink = sink;
  }

  report(status: HostReach, message?: string, engine?: string): void {
    const key = JSON.stringify([status, message, engine]);
    if (key === this.#last) return;
    this.#last = key;
    const host = this.#host;
    if (status === 'ok') this.#log.info({ host, engine }, 'container host reachable');
    else this.#log.warn({ host, status, reason: message }, 'container host not usable');
    emitSafely(
      { sink: this.#sink, log: this.#log },
      {
        kind: 'host',
        host,
        status,
        ...(message !== undefined ? { message } : {}),
        ...(engine !== undefined ? { engine } : {}),
        at: this.#clock.now(),
      },
    );
  }
}
