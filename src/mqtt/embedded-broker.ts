import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import type { BrokerConfig } from '../config/schema.js';
import { systemClock } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import { storageFailure } from '../core/storage-failure.js';
import type { Logger } from '../core/logger.js';
import type { Component } from '../core/lifecycle.js';
import { ANONYMOUS } from '../core/identity.js';
import { topicMatches } from '../core/topics.js';
import { type AclRules, type ClientIdentity, mayPublish, maySubscribe } from './acl.js';
import { ClientQueues, type DroppedClient } from './client-queues.js';
import { orderPublishes } from './ordered-publish.js';
import { PersistenceGuard } from './persistence-guard.js';
import { RetainedStore } from './retained-store.js';
import { SessionStore } from './session-store.js';
import type { MessageSource } from './types.js';

/** The user name the agent's own client logs in with; its password is made at each start. */
export const AGENT_USER = 'outpost-agent';

export interface EmbeddedBrokerOptions {
  config: BrokerConfig;
  dataDir: string;
  acl: AclRules;
  /** Set to `offline` (retained) before clients connect: the agent is not up yet. */
  availabilityTopic: string;
  /** The client id the agent's own client uses: no other connection may take it. */
  agentClientId: string;
  /** A connection refused for what it tried (taking the agent's id): for the event store. */
  refused?(r: RefusedConnection): void;
  /** A client disconnected for not reading (broker.client_queue, drain_timeout). */
  dropped?(d: DroppedClient): void;
  log: Logger;
}

/** A connection the broker refused, and why. */
export interface RefusedConnection {
  readonly clientId: string;
  readonly user: string;
  readonly reason: string;
}

/** The address the agent's own client uses to reach this broker. */
export interface LocalEndpoint {
  url: string;
  username: string;
  password: string;
}

/**
 * The embedded MQTT broker (aedes) for sites without one. It speaks MQTT 3.1.1 only;
 * retained messages and persistent sessions live in SQLite in the data dir, so Home
 * Assistant and Zigbee2MQTT lose nothing when the agent restarts.
 */
export class EmbeddedBroker implements Component {
  readonly name = 'embedded-broker';
  readonly #opts: EmbeddedBrokerOptions;
  readonly #log: Logger;
  readonly #identities = new WeakMap<Client, ClientIdentity>();
  readonly #agentPassword = randomBytes(24).toString('base64url');
  #broker: Aedes | undefined;
  #retained: RetainedStore | undefined;
  #guard: PersistenceGuard | undefined;
  #unorder: (() => void) | undefined;
  #queues: ClientQueues | undefined;
  #servers: (Server | TlsServer)[] = [];
  #port = 0;
  #tlsPort = 0;

  constructor(opts: EmbeddedBrokerOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: this.name });
  }

  async start(): Promise<void> {
    const cfg = this.#opts.config;
    const persistence = cfg.persistence ? this.#persistence() : undefined;
    const broker = await Aedes.createBroker({
      id: 'outpost',
      persistence,
      // Per client, as each has its own queue (ClientQueues): a socket that has not drained
      // for this long is closed. 0 is aedes' "no timer" (lib/client.js waitForDrain).
      drainTimeout: cfg.drain_timeout,
      authenticate: (client, username, password, done) =>
        this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null); // the broker's own publishes (wills of gone clients)
        const who = this.#identities.get(client);
        if (who && mayPublish(this.#opts.acl, who, packet.topic)) return done(null);
        this.#log.warn(
          { clientId: client.id, topic: packet.topic },
          'publish denied by ACL; closing the client (MQTT-3.3.5-2)',
        );
        done(new Error(`not authorized to publish to ${packet.topic}`));
      },
      authorizeSubscribe: (client, sub, done) => {
        const who = this.#identities.get(client);
        if (who && maySubscribe(who, sub.topic)) return done(null, sub);
        this.#log.warn({ clientId: client.id, filter: sub.topic }, 'subscribe denied by ACL');
        done(null, null); // negative SUBACK (0x80), the client stays connected
      },
    });
    this.#broker = broker;
    const queues = new ClientQueues({
      limit: cfg.client_queue,
      drainTimeoutMs: cfg.drain_timeout,
      identify: (client) => this.#identities.get(client),
      dropped: (d) => this.#opts.dropped?.(d),
      log: this.#log,
    });
    queues.watch(broker);
    this.#queues = queues;
    const handle = queues.handle(broker);
    this.#unorder = orderPublishes(broker, {
      onStall: (topic) => this.#log.warn({ topic }, 'a publish stalled in the broker; moving on'),
      durable: (done) => (this.#retained ? this.#retained.durable(done) : done()),
    });
    broker.on('clientError', (client, err) =>
      this.#log.debug({ clientId: client.id, err: err.message }, 'client error'),
    );
    // aedes emits persistence failures it cannot pin on a client (queueing for offline
    // sessions, clearing the wills of dead brokers) as 'error': unheard, that would throw.
    // (aedes' typings leave 'error' out; it is an EventEmitter all the same.)
    (broker as unknown as NodeJS.EventEmitter).on('error', (err: Error) =>
      this.#log.error({ err: err.message }, 'broker persistence error'),
    );
    await this.#publishRetained(this.#opts.availabilityTopic, 'offline');

    const plain = createServer(handle);
    this.#port = await this.#listen(plain, cfg.listen.host, cfg.listen.port);
    if (cfg.tls) {
      const t = cfg.tls;
      const tlsServer = createTlsServer(
        {
          cert: readFileSync(t.cert_file),
          key: readFileSync(t.key_file),
          ca: t.ca_file ? readFileSync(t.ca_file) : undefined,
          requestCert: t.require_client_cert,
          rejectUnauthorized: t.require_client_cert,
        },
        handle,
      );
      this.#tlsPort = await this.#listen(tlsServer, t.listen.host, t.listen.port);
    }
    this.#log.info(
      {
        listen: `${cfg.listen.host}:${this.#port}`,
        tls: cfg.tls ? `${cfg.tls.listen.host}:${this.#tlsPort}` : undefined,
      },
      'embedded broker listening (MQTT 3.1.1)',
    );
  }

  /**
   * Retained messages and sessions in SQLite, in the data dir, guarded against a full or
   * read-only disk (persistence-guard.ts). When the disk refuses even to open the file
   * (full when the agent starts), undefined: aedes keeps everything in memory, so the agent
   * runs, and the log says that none of it outlives the process.
   */
  #persistence(): SessionStore | undefined {
    const file = join(this.#opts.dataDir, 'broker-retained.db');
    try {
      mkdirSync(this.#opts.dataDir, { recursive: true });
      this.#retained = RetainedStore.open(file);
      if (this.#retained.upgraded > 0) {
        this.#log.info(
          { moved: this.#retained.upgraded },
          'retained store moved to its new layout',
        );
      }
      this.#guard = new PersistenceGuard({
        ...{ dir: this.#opts.dataDir, retained: this.#retained },
        ...{ clock: systemClock, log: this.#log },
      });
      const sessions = new SessionStore(this.#retained.database, this.#retained, this.#guard.write);
      this.#leftInLevel(sessions);
      return sessions;
    } catch (err) {
      if (storageFailure(err) === undefined) throw err;
      this.#retained?.close();
      this.#retained = undefined;
      this.#guard = undefined;
      this.#log.error(
        { file, err: errorMessage(err) },
        'broker store cannot be opened: sessions and retained messages kept in memory only',
      );
      return undefined;
    }
  }

  /**
   * Earlier versions kept the persistent sessions in LevelDB (`<data_dir>/broker/`);
   * they are not read any more. Said once, at the first start that finds the session
   * tables empty beside that directory: clients with persistent sessions subscribe again.
   */
  #leftInLevel(sessions: SessionStore): void {
    const dir = join(this.#opts.dataDir, 'broker');
    if (!existsSync(dir) || !sessions.empty || this.#retained!.levelNoted) return;
    this.#retained!.noteLevel();
    this.#log.warn(
      { dir },
      'persistent sessions an older version kept in LevelDB are not read: their clients ' +
        'subscribe again; the directory can be deleted',
    );
  }

  async stop(): Promise<void> {
    const broker = this.#broker;
    this.#broker = undefined;
    for (const s of this.#servers) s.close();
    this.#servers = [];
    if (broker) {
      await flushDeliveries(broker, this.#queues);
      this.#unorder?.();
      this.#unorder = undefined;
      this.#queues = undefined;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    }
    this.#guard?.stop();
    this.#guard = undefined;
    this.#retained?.close();
    this.#retained = undefined;
  }

  /** Where the agent's own client connects: loopback, with a per-start password. */
  localEndpoint(): LocalEndpoint {
    const host = this.#opts.config.listen.host;
    const loop = host === '::' || host.includes(':') ? '[::1]' : '127.0.0.1';
    const addr =
      host === '0.0.0.0' || host === '::' ? loop : host.includes(':') ? `[${host}]` : host;
    return {
      url: `mqtt://${addr}:${this.#port}`,
      username: AGENT_USER,
      password: this.#agentPassword,
    };
  }

  get port(): number {
    return this.#port;
  }

  get tlsPort(): number {
    return this.#tlsPort;
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const cfg = this.#opts.config;
    const pw = password ?? Buffer.alloc(0);
    if (username === AGENT_USER) {
      if (safeEqual(pw, this.#agentPassword)) {
        this.#identities.set(client, { agent: true, user: AGENT_USER });
        return done(null, true);
      }
      return done(authError(4, 'bad user name or password'), null);
    }
    // The agent's session is the agent's: taking its client id would disconnect it
    // (MQTT-3.1.4-2), so no other login may use it.
    if (client.id === this.#opts.agentClientId) {
      return this.#refuse(client, username || ANONYMOUS, "the agent's own client id", done);
    }
    if (username !== undefined && username !== '') {
      const user = cfg.users.find((u) => u.username === username);
      if (user && safeEqual(pw, user.password)) {
        this.#identities.set(client, {
          agent: false,
          user: username,
          publish: user.publish,
          subscribe: user.subscribe,
        });
        return done(null, true);
      }
      this.#log.warn({ clientId: client.id, username }, 'login refused: bad user name or password');
      return done(authError(4, 'bad user name or password'), null);
    }
    if (cfg.allow_anonymous) {
      this.#identities.set(client, { agent: false, user: ANONYMOUS });
      return done(null, true);
    }
    this.#log.warn({ clientId: client.id }, 'anonymous login refused');
    return done(authError(5, 'not authorized'), null);
  }

  #refuse(
    client: Client,
    user: string,
    reason: string,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    this.#log.warn({ clientId: client.id, user }, `connection refused: ${reason}`);
    this.#opts.refused?.({ clientId: client.id, user, reason });
    // CONNACK 0x02, "identifier rejected" (MQTT 3.1.1 §3.2.2.3).
    done(authError(2, `identifier rejected: ${reason}`), null);
  }

  /**
   * Messages published to `filter` by the broker's clients, with the user name each
   * connection logged in with as `sender` and its client id: commands handled in the
   * agent's own process carry an identity no payload can forge.
   */
  messages(): MessageSource {
    return {
      subscribe: (filter, handler) => {
        const broker = this.#broker;
        if (!broker) throw new OutpostError('INTERNAL', 'the embedded broker is not started');
        const listener = (packet: AedesPublishPacket, client: Client | null) => {
          // Every publish passes here: the agent's own (its states) leave before any matching.
          const who = client ? this.#identities.get(client) : undefined;
          if (!client || who?.agent || !topicMatches(filter, packet.topic)) return;
          const sender = who?.user ?? ANONYMOUS;
          const payload = Buffer.isBuffer(packet.payload)
            ? packet.payload
            : Buffer.from(packet.payload);
          const { topic, retain } = packet;
          handler({ topic, payload, retain, sender, clientId: client.id });
        };
        broker.on('publish', listener);
        return () => broker.removeListener('publish', listener);
      },
    };
  }

  #publishRetained(topic: string, payload: string): Promise<void> {
    const broker = this.#broker!;
    return new Promise((resolve, reject) =>
      broker.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  #listen(server: Server | TlsServer, host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(
          new OutpostError(
            'BROKER_LISTEN',
            `cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
            { cause: err },
          ),
        );
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err: Error) =>
          this.#log.error({ err: err.message }, 'broker listener error'),
        );
        this.#servers.push(server);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }
}

/**
 * Lets messages already accepted (the agent's last `offline`) reach subscribers before
 * the connections close: aedes acknowledges a publish before it has written it out.
 */
async function flushDeliveries(
  broker: Aedes,
  queues: ClientQueues | undefined,
  maxMs = 1000,
): Promise<void> {
  const clients = (
    broker as unknown as { clients: Record<string, { conn?: { writableLength?: number } }> }
  ).clients;
  const pending = () =>
    queues?.pending() === true ||
    Object.values(clients).some((c) => (c.conn?.writableLength ?? 0) > 0);
  const end = Date.now() + maxMs;
  await new Promise((r) => setTimeout(r, 20)); // mqemitter hands deliveries over asynchronously
  while (pending() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function safeEqual(given: Readonly<Buffer>, expected: string): boolean {
  const e = Buffer.from(expected);
  return given.length === e.length && timingSafeEqual(given, e);
}

function authError(code: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code });
}
