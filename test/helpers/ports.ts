import { createServer, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A TCP port that was free on 127.0.0.1 a moment ago (listen on port 0, read it, close). */
export async function getFreePort(): Promise<number> {
  const [port] = await getFreePorts(1);
  return port!;
}

/**
 * `count` distinct free ports. All probe sockets stay open until every port is known,
 * so the OS cannot hand the same port out twice.
 */
export async function getFreePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnZero(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function listenOnZero(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`unexpected listen address: ${String(address)}`));
      } else {
        resolve(address.port);
      }
    });
  });
}

/**
 * Between picking a port and the server binding it, another process may take it.
 * Retries `start` (which should pick fresh ports each time) when it fails that way.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const clash = err instanceof Error && /address already in use|cannot bind/i.test(err.message);
      if (!clash || attempt >= attempts) throw err;
    }
  }
}
