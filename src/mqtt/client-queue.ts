import { retainedQos, type GrantedSubscription } from './retained-qos.js';

/** A message on its way to one client, as aedes hands it to the client's deliver functions. */
export interface DeliveryPacket {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: number;
  /** Set on every message the broker routes; null on a new subscription's retained ones. */
  readonly brokerId?: string | null;
}

type Deliver = (packet: DeliveryPacket, done: () => void) => void;

/**
 * The parts of an aedes client (node_modules/aedes/lib/client.js) a queue takes over; they
 * are not in aedes' types.
 */
export interface QueuedClient {
  readonly closed: boolean;
  readonly conn: { once(event: 'close', listener: () => void): unknown };
  /** Its filters and the QoS granted to each (aedes keeps them on the client). */
  readonly subscriptions?: Readonly<Record<string, GrantedSubscription>>;
  deliver0: Deliver;
  deliverQoS: Deliver;
  close(): void;
}

export interface ClientQueueHooks {
  /** The bound in bytes, read at each message: Infinity for a client never dropped. */
  limit(): number;
  /** The first QoS 0 message dropped since the queue was last empty. */
  dropping(queuedBytes: number): void;
  /** The queue emptied again, after dropping `dropped` QoS 0 messages. */
  caughtUp(dropped: number): void;
  /** The queue passed its bound; the client is being disconnected. */
  overflowed(queuedBytes: number, qos0Dropped: number): void;
}

interface Item {
  readonly deliver: Deliver;
  readonly packet: DeliveryPacket;
  readonly bytes: number;
  next: Item | undefined;
}

/**
 * One client's live messages, handed to aedes one at a time in the order the broker routed
 * them (issue #13, point 4).
 *
 * aedes calls a message's delivery done only once the client's socket has taken it
 * (lib/write.js, `waitForDrain`), and the broker's publishes run one after another
 * (ordered-publish.ts): one subscriber that stopped reading held up every message to every
 * client until `drainTimeout`. Here the broker's delivery is done as soon as the message is
 * queued for this client, and the queue feeds aedes' own delivery at the client's pace,
 * so the client still gets its messages in the broker's order (aedes drops one that comes
 * after a later one, lib/client.js `dedupe`) and a QoS 1 message reaches a persistent
 * session's store before the next is sent.
 *
 * Bounded in bytes: once more than half the bound waits, QoS 0 messages to the client are
 * dropped (MQTT 3.1.1 §4.3.1, at most once); past the bound the client is disconnected.
 * Its QoS 1 messages stay in the session store of a persistent session and are sent again
 * when it comes back. A message always enters an empty queue, however large.
 */
export class ClientQueue {
  readonly #client: QueuedClient;
  readonly #hooks: ClientQueueHooks;
  readonly #deliver0: Deliver;
  readonly #deliverQoS: Deliver;
  #head: Item | undefined;
  #tail: Item | undefined;
  #bytes = 0;
  #busy = false;
  #handingOver = false;
  #gone = false;
  /** QoS 0 messages dropped since the queue was last empty, and since it was made. */
  #dropping = 0;
  #dropped = 0;

  /** Takes over `client`'s deliver functions: before it subscribes, which captures them. */
  constructor(client: QueuedClient, hooks: ClientQueueHooks) {
    this.#client = client;
    this.#hooks = hooks;
    this.#deliver0 = client.deliver0;
    this.#deliverQoS = client.deliverQoS;
    client.deliver0 = (packet, done) => this.#accept(this.#deliver0, 0, packet, done);
    client.deliverQoS = (packet, done) => this.#accept(this.#deliverQoS, packet.qos, packet, done);
    client.conn.once('close', () => this.#release());
  }

  /** Bytes waiting (topics and payloads), not counting the message aedes is writing. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** QoS 0 messages dropped for this client so far. */
  get qos0Dropped(): number {
    return this.#dropped;
  }

  #accept(deliver: Deliver, qos: number, packet: DeliveryPacket, done: () => void): void {
    // Straight on: aedes' deliverQoS passing a QoS 0 message to deliver0 (the item being
    // handed over), and a new subscription's retained messages, which aedes streams at
    // the socket's pace itself and marks so (lib/handlers/subscribe.js, sendRetained).
    if (this.#handingOver) {
      deliver(packet, done);
      return;
    }
    if (packet.brokerId == null) {
      // A client gone mid-read: its retained stream is left waiting, and collected with it.
      // aedes would write each remaining message to the closed socket, drop the error and
      // ask for the next (lib/client.js deliverQoS0): a read of 120,000 retained messages
      // ran on to its end for a client that had left (issue 15, agent-scale-20000).
      if (this.#gone || this.#client.closed) return;
      deliver(this.#granted(packet), done);
      return;
    }
    this.#enqueue(deliver, qos, packet);
    setImmediate(done); // as aedes calls back: never from inside the broker's emit
  }

  /** A retained message at the QoS the client was granted for it, not above. */
  #granted(packet: DeliveryPacket): DeliveryPacket {
    const subs = this.#client.subscriptions;
    if (packet.qos === 0 || subs === undefined) return packet;
    const qos = retainedQos(packet.qos, packet.topic, subs);
    return qos === packet.qos ? packet : { ...packet, qos };
  }

  #enqueue(deliver: Deliver, qos: number, packet: DeliveryPacket): void {
    if (this.#gone || this.#client.closed) return; // nothing more goes to a closing client
    const bytes = sizeOf(packet);
    const queued = this.#bytes;
    const limit = this.#hooks.limit();
    if (queued > 0 && qos === 0 && queued + bytes > limit / 2) {
      this.#dropped++;
      if (this.#dropping++ === 0) this.#hooks.dropping(queued);
      return;
    }
    if (queued > 0 && queued + bytes > limit) {
      this.#release();
      this.#hooks.overflowed(queued + bytes, this.#dropped);
      // Not from inside the broker's emit: closing unsubscribes the client.
      setImmediate(() => this.#client.close());
      return;
    }
    const item: Item = { deliver, packet, bytes, next: undefined };
    if (this.#tail) this.#tail.next = item;
    else this.#head = item;
    this.#tail = item;
    this.#bytes += bytes;
    this.#pump();
  }

  #pump(): void {
    if (this.#busy) return;
    const item = this.#head;
    if (!item) {
      if (this.#dropping > 0 && !this.#gone) this.#hooks.caughtUp(this.#dropping);
      this.#dropping = 0;
      return;
    }
    this.#head = item.next;
    if (!this.#head) this.#tail = undefined;
    this.#bytes -= item.bytes;
    this.#busy = true;
    this.#handingOver = true;
    try {
      // aedes calls back once the socket took the message, or with the connection gone.
      item.deliver(item.packet, () => {
        this.#busy = false;
        this.#pump();
      });
    } finally {
      this.#handingOver = false;
    }
  }

  #release(): void {
    this.#gone = true;
    this.#head = undefined;
    this.#tail = undefined;
    this.#bytes = 0;
  }
}

function sizeOf(packet: DeliveryPacket): number {
  const p = packet.payload;
  return packet.topic.length + (typeof p === 'string' ? Buffer.byteLength(p) : p.length);
}
