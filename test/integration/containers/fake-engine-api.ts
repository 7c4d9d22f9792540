import { createServer, type Server, type ServerResponse } from 'node:http';

/**
 * A FAKE Docker Engine API on a unix socket (named as such: TESTING.md allows a fake only
 * where the real thing cannot serve the case). Real engines do not truncate answers or
 * hang on demand; this one does, speaking the same endpoints and JSON shapes that dockerd
 * 20.10 answered in the real-engine suite.
 */
export type ApiMode =
  /** answers as a healthy engine */
  | 'normal'
  /** /containers/json is cut off mid-JSON */
  | 'truncated-list'
  /** /containers/{id}/json is not JSON */
  | 'garbage-inspect'
  /** /containers/{id}/json has State.Status as a number */
  | 'wrong-shape'
  /** /containers/json never answers */
  | 'hang';

export class FakeEngineApi {
  mode: ApiMode = 'normal';
  records: Record<string, unknown>[];
  readonly #server: Server;
  readonly #streams = new Set<ServerResponse>();

  private constructor(records: Record<string, unknown>[]) {
    this.records = records;
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      const path = url.pathname.replace(/^\/v[\d.]+/, '');
      if (path === '/_ping') return res.end('OK');
      if (path === '/version') return json(res, { Version: '20.10.99-fake', ApiVersion: '1.41' });
      if (path === '/events') return this.#events(res);
      if (path === '/containers/json') return this.#list(res);
      const m = /^\/containers\/([0-9a-f]+)\/json$/.exec(path);
      if (m) return this.#inspect(res, m[1]!);
      res.writeHead(404).end(JSON.stringify({ message: `no route ${path}` }));
    });
  }

  static async start(
    socketPath: string,
    records: Record<string, unknown>[],
  ): Promise<FakeEngineApi> {
    const api = new FakeEngineApi(records);
    await new Promise<void>((resolve, reject) => {
      api.#server.once('error', reject);
      api.#server.listen(socketPath, resolve);
    });
    return api;
  }

  /** Writes a raw line into every open event stream. */
  pushEventLine(line: string): void {
    for (const s of this.#streams) s.write(`${line}\n`);
  }

  /** Emits a container event the way dockerd does. */
  pushEvent(id: string, action: string): void {
    const now = Date.now();
    this.pushEventLine(
      JSON.stringify({
        status: action,
        id,
        Type: 'container',
        Action: action,
        Actor: { ID: id, Attributes: {} },
        scope: 'local',
        time: Math.floor(now / 1000),
        timeNano: now * 1e6,
      }),
    );
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  async stop(): Promise<void> {
    for (const s of this.#streams) s.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #events(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    this.#streams.add(res);
    res.on('close', () => this.#streams.delete(res));
  }

  #list(res: ServerResponse): void {
    if (this.mode === 'hang') return; // never answers; the client must give up
    const list = this.records.map((r) => ({ Id: r.Id, Names: [r.Name], State: 'running' }));
    const body = JSON.stringify(list);
    if (this.mode === 'truncated-list') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body.slice(0, Math.floor(body.length / 2)));
      return;
    }
    json(res, list);
  }

  #inspect(res: ServerResponse, id: string): void {
    const r = this.records.find((x) => x.Id === id);
    if (!r) {
      res.writeHead(404).end(JSON.stringify({ message: `No such container: ${id}` }));
      return;
    }
    if (this.mode === 'garbage-inspect') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>502 Bad Gateway</html>');
      return;
    }
    if (this.mode === 'wrong-shape') {
      return json(res, { ...r, State: { ...(r.State as object), Status: 5 } });
    }
    json(res, r);
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
