import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface RawSubscriberOptions {
  clientId: string;
  filter: string;
  qos?: 0 | 1;
  /** false: a persistent session (MQTT 3.1.1 §3.1.2.4); true by default. */
  clean?: boolean;
  username?: string;
  password?: string;
}

/**
 * An MQTT 3.1.1 subscriber on a bare socket, whose reading the test controls: `freeze()`
 * stops reading (the kernel's buffers fill, then the broker's), `thaw()` reads again. A
 * client library would read whatever arrives; this one can be the frozen or slow client
 * a broker must survive.
 */
export class RawSubscriber {
  /** Publishes read so far, in the order they arrived. */
  readonly publishes: { topic: string; payload: Buffer; qos: number }[] = [];
  readonly #socket: Socket;
  readonly #parser = mqttPacket.parser({ protocolVersion: 4 });
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#parser.parse(chunk));
    socket.on('close', () => (this.#closed = true));
    socket.on('error', () => undefined); // a broker that drops us resets the socket
    this.#parser.on('packet', (p: Packet) => {
      if (p.cmd !== 'publish') return;
      this.publishes.push({ topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos });
      if (p.qos === 1) this.#write({ cmd: 'puback', messageId: p.messageId! });
    });
  }

  /** Connects, subscribes and resolves once the SUBACK is in. */
  static async connect(port: number, opts: RawSubscriberOptions): Promise<RawSubscriber> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const sub = new RawSubscriber(socket);
    const acked = new Promise<void>((resolve, reject) => {
      sub.#parser.on('packet', (p: Packet) => {
        if (p.cmd === 'connack' && p.returnCode !== 0)
          reject(new Error(`CONNACK ${p.returnCode} for ${opts.clientId}`));
        if (p.cmd === 'suback') resolve();
      });
      socket.once('close', () => reject(new Error(`${opts.clientId}: closed before SUBACK`)));
    });
    sub.#write({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: opts.clean ?? true,
      clientId: opts.clientId,
      keepalive: 0,
      username: opts.username,
      password: opts.password === undefined ? undefined : Buffer.from(opts.password),
    });
    sub.#write({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: opts.filter, qos: opts.qos ?? 0 }],
    });
    await acked;
    return sub;
  }

  /** Stops reading the socket: what the broker sends waits in buffers. */
  freeze(): void {
    this.#socket.pause();
  }

  /** Reads again, from where it stopped. */
  thaw(): void {
    this.#socket.resume();
  }

  /** Whether the socket has closed (a reset reaches a frozen reader only once it reads). */
  get closed(): boolean {
    return this.#closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #write(packet: Packet): void {
    this.#socket.write(mqttPacket.generate(packet));
  }
}
