import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ContainerCollectorOutput } from '../../../src/collectors/containers/types.js';
import { unixHttp, unixHttpJson } from '../../helpers/unix-http.js';

/** Container operations straight on the engine's API, bypassing the code under test. */
export class EngineActions {
  readonly #socket: string;
  readonly #image: string;

  constructor(socketPath: string, imageRef: string) {
    this.#socket = socketPath;
    this.#image = imageRef;
  }

  /** Creates (network none, as the harness requires) and optionally starts a container. */
  async run(
    name: string,
    opts: {
      cmd?: string[];
      labels?: Record<string, string>;
      healthcheck?: { test: string[]; intervalMs: number; retries: number };
      restart?: { name: 'on-failure' | 'always'; max: number };
      /** Host paths mounted in the container, as `host:container`. */
      binds?: string[];
      start?: boolean;
    } = {},
  ): Promise<string> {
    const body = {
      Image: this.#image,
      Cmd: opts.cmd ?? ['sleep', '300'],
      Labels: opts.labels ?? {},
      ...(opts.healthcheck
        ? {
            Healthcheck: {
              Test: opts.healthcheck.test,
              Interval: opts.healthcheck.intervalMs * 1e6,
              Timeout: 2e9,
              Retries: opts.healthcheck.retries,
            },
          }
        : {}),
      // A short stop timeout: busybox sleep ignores SIGTERM as PID 1.
      StopTimeout: 1,
      HostConfig: {
        NetworkMode: 'none',
        ...(opts.binds ? { Binds: opts.binds } : {}),
        ...(opts.restart
          ? { RestartPolicy: { Name: opts.restart.name, MaximumRetryCount: opts.restart.max } }
          : {}),
      },
    };
    const { Id } = await unixHttpJson<{ Id: string }>(
      this.#socket,
      `/containers/create?name=${encodeURIComponent(name)}`,
      { method: 'POST', body },
    );
    if (opts.start !== false) await this.post(Id, 'start');
    return Id;
  }

  /** POST /containers/{id}/{action}: start, stop, kill, restart, pause, unpause. */
  async post(id: string, action: string, query = ''): Promise<void> {
    const res = await unixHttp(this.#socket, `/containers/${id}/${action}${query}`, {
      method: 'POST',
      timeoutMs: 60_000,
    });
    if (res.status >= 300 && res.status !== 304) {
      throw new Error(`${action} ${id.slice(0, 12)} -> ${res.status}: ${res.body}`);
    }
  }

  /** Runs a command inside the container and waits for it to finish. */
  async exec(id: string, cmd: string[]): Promise<void> {
    const { Id } = await unixHttpJson<{ Id: string }>(this.#socket, `/containers/${id}/exec`, {
      method: 'POST',
      body: { Cmd: cmd, AttachStdout: true, AttachStderr: true },
    });
    await unixHttp(this.#socket, `/exec/${Id}/start`, {
      method: 'POST',
      body: { Detach: false, Tty: false },
    });
  }

  /** The engine's own inspect record (the fields a test compares). */
  inspect(
    id: string,
  ): Promise<{ State: { Status: string; StartedAt: string; FinishedAt: string } }> {
    return unixHttpJson(this.#socket, `/containers/${id}/json`);
  }

  async remove(id: string): Promise<void> {
    await unixHttp(this.#socket, `/containers/${id}?force=true`, { method: 'DELETE' });
  }
}

type Output = ContainerCollectorOutput;

/** Records collector outputs and resolves waits as soon as a matching one arrives. */
export class OutputRecorder {
  readonly outputs: Output[] = [];
  readonly #waiters = new Set<{ match: (o: Output) => boolean; resolve: (o: Output) => void }>();

  readonly sink = (o: Output): void => {
    this.outputs.push(o);
    for (const w of [...this.#waiters]) {
      if (w.match(o)) {
        this.#waiters.delete(w);
        w.resolve(o);
      }
    }
  };

  /** The next output (from now on) that matches; rejects after `timeoutMs`. */
  next<T extends Output>(
    match: (o: Output) => o is T,
    what: string,
    timeoutMs?: number,
  ): Promise<T>;
  next(match: (o: Output) => boolean, what: string, timeoutMs?: number): Promise<Output>;
  next(match: (o: Output) => boolean, what: string, timeoutMs = 20_000): Promise<Output> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters.delete(waiter);
        const recent = this.outputs.slice(-8).map(describeOutput).join('\n  ');
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; recent:\n  ${recent}`),
        );
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (o: Output) => {
          clearTimeout(t);
          resolve(o);
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

export function describeOutput(o: Output): string {
  switch (o.kind) {
    case 'snapshot':
      return `snapshot ${o.host}: ${o.containers.map((c) => `${c.key}=${c.state}`).join(', ')}`;
    case 'container':
      return `container ${o.host} ${o.container.key}=${o.container.state}/${o.container.health} (${o.cause.action})`;
    case 'removed':
      return `removed ${o.host} ${o.id.slice(0, 12)} (${o.cause.action})`;
    case 'host':
      return `host ${o.host} ${o.status} ${o.message ?? ''}`;
  }
}

/** Matches a container output about `id`. */
export const about =
  (id: string, pred: (o: Extract<Output, { kind: 'container' }>) => boolean = () => true) =>
  (o: Output): o is Extract<Output, { kind: 'container' }> =>
    o.kind === 'container' && o.container.id === id && pred(o);

export const hostIs =
  (host: string, status: 'ok' | 'degraded' | 'unreachable') =>
  (o: Output): o is Extract<Output, { kind: 'host' }> =>
    o.kind === 'host' && o.host === host && o.status === status;

/**
 * A byte pipe in front of a real server (a unix socket or a TCP port) that a test can cut:
 * `cut()` destroys every open connection, `refuse(true)` closes new ones at once. It lets
 * a test drop the engine's event stream or an SSH session mid-command without stopping
 * the server itself.
 */
export class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #refusing = false;

  private constructor(target: { path: string } | { port: number; host: string }) {
    this.#server = createServer((client) => {
      if (this.#refusing) return client.destroy();
      const upstream = connect(target);
      this.#sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  /** Listens on `listen` (a socket path, or 0 for a free 127.0.0.1 port). */
  static async start(
    target: { path: string } | { port: number; host: string },
    listen: string | 0,
  ): Promise<CuttableProxy> {
    const p = new CuttableProxy(target);
    await new Promise<void>((resolve, reject) => {
      p.#server.once('error', reject);
      if (listen === 0) p.#server.listen(0, '127.0.0.1', resolve);
      else p.#server.listen(listen, resolve);
    });
    return p;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  get connections(): number {
    return this.#sockets.size / 2;
  }

  cut(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  refuse(on: boolean): void {
    this.#refusing = on;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
