import type { HostConfig } from '../config/schema.js';
import type { Backoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { OutpostError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { HandshakeSlots } from './handshake-slots.js';
import {
  SshConnection,
  sshTarget,
  type CommandRunner,
  type ExecOptions,
  type ExecResult,
  type SshStatus,
} from './ssh-connection.js';

/**
 * What a collector holds of a host's SSH connection: it starts and stops its own use of
 * it and runs commands over it. An SshConnection is one (owned alone); a lease from the
 * SshPool is another (shared with every other user of the host).
 */
export interface SshSession extends CommandRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
}

export interface SshPoolOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** A fresh reconnect policy per host; the connection's default when absent. */
  readonly backoff?: () => Backoff;
  /** How many hosts' SSH handshakes may run at once (default MAX_HANDSHAKES). */
  readonly maxHandshakes?: number;
}

/**
 * Handshakes at once, across all hosts: below sshd's default `MaxStartups` (10), so that
 * even hosts behind one sshd (a jump host, a test rig) are never refused for arriving
 * together, and enough that 200 hosts on a LAN are all logged in within seconds.
 */
export const MAX_HANDSHAKES = 8;

/**
 * One SSH connection per host for the whole agent (issue #16): the container collector,
 * disks and remediation all lease the host's one pinned connection instead of each
 * logging in on its own. The connection opens when its first lease starts and closes when
 * its last one stops; between, it reconnects with backoff as an SshConnection always did.
 */
export class SshPool {
  readonly #o: SshPoolOptions;
  readonly #hosts = new Map<string, NonNullable<HostConfig['ssh']>>();
  readonly #shared = new Map<string, SharedConnection>();
  readonly #handshakes: HandshakeSlots;

  constructor(hosts: readonly HostConfig[], opts: SshPoolOptions) {
    this.#o = opts;
    this.#handshakes = new HandshakeSlots(opts.maxHandshakes ?? MAX_HANDSHAKES);
    for (const h of hosts) if (h.ssh) this.#hosts.set(h.id, h.ssh);
  }

  /** Whether the host is reached over SSH. */
  has(host: string): boolean {
    return this.#hosts.has(host);
  }

  /**
   * A lease of the host's connection. `onStatus` hears every change of the connection
   * while the lease is started, and on start the state it is in by then, so a late user
   * of a connection that is already up polls at once as the first one did.
   */
  lease(host: string, onStatus?: (s: SshStatus) => void): SshSession {
    const shared = this.#sharedOf(host);
    return new SshLease(shared, onStatus ?? (() => undefined));
  }

  /** The host's connection for one-off commands (remediation), or undefined off SSH. */
  runner(host: string): CommandRunner | undefined {
    if (!this.#hosts.has(host)) return undefined;
    const shared = this.#sharedOf(host);
    return { exec: (command, opts) => shared.exec(command, opts) };
  }

  #sharedOf(host: string): SharedConnection {
    const known = this.#shared.get(host);
    if (known) return known;
    const ssh = this.#hosts.get(host);
    if (!ssh) throw new OutpostError('INTERNAL', `host ${host} has no ssh section to lease`);
    const shared = new SharedConnection(host, ssh, this.#o, this.#handshakes);
    this.#shared.set(host, shared);
    return shared;
  }
}

type Listener = (s: SshStatus) => void;

/** The one connection of a host and who is using it. */
class SharedConnection {
  readonly #conn: SshConnection;
  readonly #listeners = new Set<Listener>();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    host: string,
    ssh: NonNullable<HostConfig['ssh']>,
    o: SshPoolOptions,
    handshakes: HandshakeSlots,
  ) {
    this.#conn = new SshConnection({
      name: host,
      target: sshTarget(ssh),
      handshakes,
      clock: o.clock,
      log: o.log.child({ component: `ssh:${host}` }),
      ...(o.backoff ? { backoff: o.backoff() } : {}),
      onStatus: (s) => {
        for (const l of [...this.#listeners]) l(s);
      },
    });
  }

  get connected(): boolean {
    return this.#conn.connected;
  }

  /** Resolves after the connection's first attempt, as SshConnection.start does. */
  async join(listener: Listener): Promise<void> {
    await this.#stopping;
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      this.#starting = this.#conn.start();
    } else if (this.#conn.connected) {
      listener({ connected: true });
    } else if (this.#conn.lastError) {
      listener({ connected: false, error: this.#conn.lastError });
    }
    await this.#starting;
  }

  /** The last user leaving closes the connection. */
  async leave(listener: Listener): Promise<void> {
    if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
    this.#starting = undefined;
    this.#stopping = this.#conn.stop().finally(() => {
      this.#stopping = undefined;
    });
    await this.#stopping;
  }

  exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    return this.#conn.exec(command, opts);
  }
}

/** One user's hold on a shared connection. */
class SshLease implements SshSession {
  readonly #shared: SharedConnection;
  readonly #listener: Listener;
  #joined = false;

  constructor(shared: SharedConnection, onStatus: Listener) {
    this.#shared = shared;
    // A fresh function per lease: the same callback leased twice still counts twice.
    this.#listener = (s) => onStatus(s);
  }

  get connected(): boolean {
    return this.#shared.connected;
  }

  start(): Promise<void> {
    if (this.#joined) return Promise.resolve();
    this.#joined = true;
    return this.#shared.join(this.#listener);
  }

  stop(): Promise<void> {
    if (!this.#joined) return Promise.resolve();
    this.#joined = false;
    return this.#shared.leave(this.#listener);
  }

  exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    return this.#shared.exec(command, opts);
  }
}
