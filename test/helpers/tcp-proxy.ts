import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP relay whose connections a test can cut, as a dropped network link would. */
export interface TcpProxy {
  /** Where clients connect instead of the target. */
  readonly port: number;
  /** How many TCP connections clients have opened through it so far. */
  readonly accepted: number;
  /**
   * Stops relaying both ways on the open connections, so a client's sends are lost and
   * wait unanswered, as on a link that has gone silent before it drops.
   */
  silence(): void;
  /** Destroys every relayed connection, both sides; new ones are still relayed. */
  cut(): void;
  stop(): Promise<void>;
}

/** Relays 127.0.0.1:<port> to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const cut = () => {
    for (const s of open) s.destroy();
    open.clear();
  };
  const silence = () => {
    for (const s of open) {
      s.unpipe();
      s.pause();
    }
  };
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    silence,
    cut,
    stop: () => {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
