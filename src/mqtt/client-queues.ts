import type { Aedes, Client } from 'aedes';
import { ANONYMOUS } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import type { ClientIdentity } from './acl.js';
import { ClientQueue, type QueuedClient } from './client-queue.js';

/** A client the broker disconnected because it did not read what it was sent. */
export interface DroppedClient {
  readonly clientId: string;
  readonly user: string;
  readonly reason: string;
  /** QoS 0 messages to it dropped before, while it lagged. */
  readonly qos0Dropped: number;
}

export interface ClientQueuesOptions {
  /** broker.client_queue, in bytes. */
  readonly limit: number;
  /** broker.drain_timeout in ms (0: no timer), as aedes applies it; for the reason given. */
  readonly drainTimeoutMs: number;
  identify(client: Client): ClientIdentity | undefined;
  dropped?(d: DroppedClient): void;
  readonly log: Logger;
}

/** The parts of an aedes client the drain timer lives in (lib/client.js `waitForDrain`). */
interface DrainingClient extends QueuedClient {
  readonly conn: QueuedClient['conn'] & { once(event: 'drain', listener: () => void): unknown };
  waitForDrain(done: () => void): void;
}

/**
 * Gives every client of the embedded broker its own ClientQueue, and drops the clients
 * that do not read: past `broker.client_queue`, or when aedes' drain timer
 * (`broker.drain_timeout`) gives up on a socket. Either is logged and reported with the
 * client id and the user it logged in as. The agent's own client is never dropped.
 */
export class ClientQueues {
  readonly #opts: ClientQueuesOptions;
  readonly #log: Logger;
  readonly #queues = new WeakMap<Client, ClientQueue>();
  /** The queues of connections still open. */
  readonly #open = new Set<ClientQueue>();
  readonly #reported = new WeakSet<Client>();

  constructor(opts: ClientQueuesOptions) {
    this.#opts = opts;
    this.#log = opts.log;
  }

  /** aedes' connection handler, giving each client its queue before it can subscribe. */
  handle(broker: Aedes): Aedes['handle'] {
    return (conn, req) => {
      const client = broker.handle(conn, req);
      this.#attach(client);
      return client;
    };
  }

  /** Reports the clients aedes' drain timer disconnects. */
  watch(broker: Aedes): void {
    broker.on('clientError', (client, err) => {
      // lib/client.js _handleDrainTimeout destroys the socket with this error.
      if (err.message !== 'drain timeout') return;
      const ms = this.#opts.drainTimeoutMs;
      this.#drop(client, `its socket did not drain for broker.drain_timeout (${ms} ms)`);
    });
  }

  /** Whether a message still waits in some client's queue. */
  pending(): boolean {
    for (const q of this.#open) if (q.queuedBytes > 0 || q.inFlight > 0) return true;
    return false;
  }

  #attach(client: Client): void {
    const c = client as unknown as DrainingClient;
    const who = () => this.#who(client);
    const queue = new ClientQueue(c, {
      limit: () => (this.#isAgent(client) ? Infinity : this.#opts.limit),
      dropping: (queuedBytes) =>
        this.#log.warn(
          { ...who(), queuedBytes },
          'a client reads too slowly: dropping QoS 0 messages to it (broker.client_queue half full)',
        ),
      caughtUp: (qos0Dropped) =>
        this.#log.info({ ...who(), qos0Dropped }, 'a slow client caught up'),
      overflowed: (queuedBytes) =>
        this.#drop(
          client,
          `its queue passed broker.client_queue (${this.#opts.limit} bytes, ${queuedBytes} waiting)`,
        ),
    });
    this.#queues.set(client, queue);
    this.#open.add(queue);
    c.conn.once('close', () => this.#open.delete(queue));
    // The agent's own client reads in this process: after the event loop was held up
    // (a long GC, a suspended VM), an expired drain timer runs before the I/O that would
    // have drained the socket, and would cut the agent off from its own broker.
    const aedesWait = c.waitForDrain.bind(c);
    c.waitForDrain = (done) => {
      if (this.#isAgent(client)) c.conn.once('drain', done);
      else aedesWait(done);
    };
  }

  #drop(client: Client, reason: string): void {
    if (this.#reported.has(client)) return; // each pending write fails with the same error
    this.#reported.add(client);
    const { clientId, user } = this.#who(client);
    const qos0Dropped = this.#queues.get(client)?.qos0Dropped ?? 0;
    this.#log.warn(
      { clientId, user, qos0Dropped },
      `disconnecting a client that does not read: ${reason}`,
    );
    this.#opts.dropped?.({ clientId, user, reason, qos0Dropped });
  }

  #who(client: Client): { clientId: string; user: string } {
    return { clientId: client.id, user: this.#opts.identify(client)?.user ?? ANONYMOUS };
  }

  #isAgent(client: Client): boolean {
    return this.#opts.identify(client)?.agent === true;
  }
}
