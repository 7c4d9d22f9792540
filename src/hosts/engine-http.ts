import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { OutpostError } from '../core/errors.js';

/**
 * The few HTTP calls the agent makes to a container engine, over `node:http` on a unix
 * socket or TCP. It replaced dockerode (issue #15), which cost ~450 ms and ~26 MiB of RSS
 * to load (grpc-js and protobufjs for BuildKit) and ~29 KB allocated per inspect, for
 * five endpoints of the Docker Engine API
 * (https://docs.docker.com/reference/api/engine/): paths are unversioned, so the engine
 * answers in its own current version, as dockerode asked.
 */

export interface EngineEndpoint {
  /** A unix socket path … */
  socketPath?: string;
  /** … or an http(s) host and port. */
  host?: string;
  port?: number;
  tls?: boolean;
}

/** An answer that is not 2xx: the status and the engine's own `message`. */
export class EngineHttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'EngineHttpError';
    this.statusCode = statusCode;
  }
}

/** Larger answers are refused: a hundred containers' inspect records are well under 1 MiB. */
const MAX_BODY = 32 * 1024 * 1024;

export class EngineHttp {
  readonly #endpoint: EngineEndpoint;

  constructor(endpoint: EngineEndpoint) {
    this.#endpoint = endpoint;
  }

  /**
   * One request, its body read whole. Resolves with the status and body for 2xx and 304
   * (a start of a running container answers 304), rejects with EngineHttpError otherwise.
   */
  async call(
    method: 'GET' | 'POST',
    path: string,
    signal: AbortSignal,
  ): Promise<{ status: number; body: Buffer }> {
    const res = await this.#open(method, path, signal);
    const body = await readBody(res, signal);
    const status = res.statusCode ?? 0;
    if ((status >= 200 && status < 300) || status === 304) return { status, body };
    throw new EngineHttpError(status, engineMessage(body) ?? `HTTP ${status}`);
  }

  /** A GET whose body is a stream (the event stream): resolves once the headers are in. */
  async stream(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const res = await this.#open('GET', path, signal);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const body = await readBody(res, signal);
    throw new EngineHttpError(status, engineMessage(body) ?? `HTTP ${status}`);
  }

  #open(method: string, path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const { socketPath, host, port, tls } = this.#endpoint;
    const options: RequestOptions = {
      method,
      path,
      signal,
      // Docker's API needs a Host header but ignores its value on a socket.
      headers: { host: socketPath ? 'docker' : `${host}:${port}` },
      ...(socketPath ? { socketPath } : { host, port }),
    };
    return new Promise((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(options, resolve);
      req.on('error', reject);
      req.end();
    });
  }
}

function readBody(res: IncomingMessage, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        res.destroy();
        reject(
          new OutpostError('ENGINE_BAD_OUTPUT', `answer larger than ${MAX_BODY} bytes`, {
            retryable: true,
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    res.on('error', reject);
    // A connection closed or aborted before the end: no 'end', maybe no 'error' either.
    res.on('close', () => {
      if (res.complete) return;
      const reason: unknown = signal.reason;
      reject(reason instanceof Error ? reason : new Error('connection closed mid-answer'));
    });
  });
}

/** The engine's error body is `{"message": "…"}` (docker and podman alike). */
function engineMessage(body: Buffer): string | undefined {
  try {
    const m = (JSON.parse(body.toString()) as { message?: unknown } | null)?.message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    const text = body.toString().trim();
    return text === '' ? undefined : text.slice(0, 200);
  }
}
