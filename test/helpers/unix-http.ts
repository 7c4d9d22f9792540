import { request } from 'node:http';
import type { Readable } from 'node:stream';

export interface UnixHttpResponse {
  status: number;
  body: string;
}

export interface UnixHttpRequest {
  method?: string;
  /** JSON-encoded when an object; sent as is when a Buffer or stream. */
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

/** One HTTP request over a unix socket (the Docker/podman API), body read as text. */
export function unixHttp(
  socketPath: string,
  path: string,
  opts: UnixHttpRequest = {},
): Promise<UnixHttpResponse> {
  const { method = 'GET', body, timeoutMs = 30_000 } = opts;
  const isRaw = Buffer.isBuffer(body) || isReadable(body);
  const headers: Record<string, string> = {};
  if (body !== undefined) {
    headers['content-type'] =
      opts.contentType ?? (isRaw ? 'application/octet-stream' : 'application/json');
  }
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${socketPath} timed out`)));
    req.on('error', reject);
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else if (isReadable(body)) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else {
      req.end(JSON.stringify(body));
    }
  });
}

/** Like unixHttp, but throws unless the status is 2xx and parses a JSON body. */
export async function unixHttpJson<T = unknown>(
  socketPath: string,
  path: string,
  opts: UnixHttpRequest = {},
): Promise<T> {
  const res = await unixHttp(socketPath, path, opts);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${opts.method ?? 'GET'} ${path} -> ${res.status}: ${res.body.slice(0, 500)}`);
  }
  return (res.body === '' ? undefined : JSON.parse(res.body)) as T;
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && 'pipe' in value && 'on' in value;
}
