import type { HostConfig } from '../config/schema.js';
import { readFile } from 'node:fs/promises';
import type * as Ssh2 from 'ssh2';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { Backoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { OutpostError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HandshakeSlots } from './handshake-slots.js';
import { hostKeyAlgorithms } from './known-hosts.js';
import { loadPins, pinnedKeyTypes, refusal, type HostKeyPins } from './host-key-pin.js';

/** Where and as whom to log in (from `hosts[].ssh`). */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** A private key file; without it the SSH agent (SSH_AUTH_SOCK) is used. */
  keyFile?: string | undefined;
  passphrase?: string | undefined;
  /** Pinned `SHA256:…` fingerprint … */
  hostKey?: string | undefined;
  /** … and/or a known_hosts file; every configured pin must match. */
  knownHosts?: string | undefined;
}

export interface SshConnectionOptions {
  /** The config host id, for messages. */
  name: string;
  target: SshTarget;
  clock: Clock;
  log: Logger;
  backoff?: Backoff;
  /** Keepalive probe interval (default 15 s) and unanswered probes before giving up (3). */
  keepaliveMs?: number;
  keepaliveCountMax?: number;
  /** Handshake and authentication deadline (default 20 s). */
  readyTimeoutMs?: number;
  /** Default: SSH_AUTH_SOCK. */
  agentSocket?: string | undefined;
  /** Shared by the hosts' connections: how many handshakes run at once (default: no limit). */
  handshakes?: HandshakeSlots;
  onStatus?(status: SshStatus): void;
}

export type SshStatus = { connected: true } | { connected: false; error: OutpostError };

export interface ExecOptions {
  timeoutMs: number;
  /** Output beyond this is an error (default 64 MiB). */
  maxOutputBytes?: number;
  /**
   * Takes stdout chunk by chunk as it arrives instead of collecting it: the result's
   * `stdout` is then empty. A runner that cannot stream may ignore it and return stdout
   * in the result, so callers feed both to the same consumer.
   */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  /** Null when the command was ended by a signal. */
  code: number | null;
  signal: string | null;
}

/** Runs one command string on a host; SshConnection is one, a local shell in tests another. */
export interface CommandRunner {
  exec(command: string, opts: ExecOptions): Promise<ExecResult>;
}

const MAX_STDERR = 64 * 1024;

const noSlot = Promise.resolve(() => undefined);

/**
 * ssh2 (with its crypto helpers and WebAssembly) adds about 12 MiB of RSS when it is
 * loaded: it is imported on the first connection, so an agent without SSH hosts never
 * pays for it (issue 15, idle RSS).
 */
let ssh2: Promise<typeof Ssh2> | undefined;
const loadSsh2 = () => (ssh2 ??= import('ssh2'));

/**
 * One persistent SSH connection per host, shared by every poll: keepalives, reconnect
 * with the shared capped Backoff, key or agent auth, and a pinned host key — an unknown
 * or changed key is refused with an error that says which key was offered.
 */
export class SshConnection implements CommandRunner {
  readonly #opts: SshConnectionOptions;
  readonly #backoff: Backoff;
  readonly #pending = new Set<(err: OutpostError) => void>();
  #client: Client | undefined;
  #ready = false;
  #stopped = true;
  #timer: TimerHandle | undefined;
  #lastError: OutpostError | undefined;

  constructor(opts: SshConnectionOptions) {
    this.#opts = opts;
    this.#backoff = opts.backoff ?? new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  }

  get connected(): boolean {
    return this.#ready;
  }

  /** Why the connection is down, if it is. */
  get lastError(): OutpostError | undefined {
    return this.#lastError;
  }

  /** Resolves after the first attempt, connected or not; it keeps retrying on its own. */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#rejectPending(this.#error('SSH_DISCONNECTED', 'connection closed by the agent'));
    const client = this.#client;
    this.#client = undefined;
    this.#ready = false;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2_000);
      t.unref();
      client.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      client.end();
    });
  }

  /** Runs `command` (one shell string: quote every word with shJoin) and collects output. */
  exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    const client = this.#client;
    if (!this.#ready || !client) {
      const why = this.#lastError ? `: ${this.#lastError.message}` : '';
      return Promise.reject(this.#error('SSH_DISCONNECTED', `not connected${why}`));
    }
    return new Promise<ExecResult>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      const settle = (err: OutpostError | undefined, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        this.#opts.clock.clearTimeout(timer);
        this.#pending.delete(fail);
        if (err) reject(err);
        else resolve(result!);
      };
      const fail = (err: OutpostError) => {
        settle(err);
        try {
          channel?.close();
        } catch {
          // the channel is gone with the connection; nothing to close
        }
      };
      this.#pending.add(fail);
      const timer = this.#opts.clock.setTimeout(() => {
        // Ask sshd to kill the command too, so a hung engine does not pile up processes.
        try {
          channel?.signal('KILL');
        } catch {
          // not every server supports signals; closing the channel is enough
        }
        fail(this.#error('TIMEOUT', `no result within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      client.exec(command, (err, ch) => {
        if (err)
          return fail(this.#error('SSH_DISCONNECTED', `cannot run a command: ${err.message}`));
        if (settled) return ch.close();
        channel = ch;
        this.#collect(ch, opts, fail, (r) => settle(undefined, r));
      });
    });
  }

  #collect(
    ch: ClientChannel,
    opts: ExecOptions,
    fail: (err: OutpostError) => void,
    done: (r: ExecResult) => void,
  ): void {
    const maxBytes = opts.maxOutputBytes ?? 64 * 1024 * 1024;
    const { onStdout } = opts;
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let exit: { code: number | null; signal: string | null } | undefined;
    ch.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        fail(this.#error('ENGINE_BAD_OUTPUT', `output over ${maxBytes} bytes`));
      } else if (!onStdout) {
        chunks.push(chunk);
      } else {
        try {
          onStdout(chunk);
        } catch (err) {
          fail(this.#error('INTERNAL', `reading the output: ${errorMessage(err)}`, false));
        }
      }
    });
    ch.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString();
    });
    ch.on('exit', (code: number | null, signal?: string) => {
      exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
    });
    ch.on('close', () => {
      // No exit status means the connection went away under the command.
      if (!exit) return fail(this.#error('SSH_DISCONNECTED', 'connection lost during a command'));
      done({ stdout: Buffer.concat(chunks), stderr, ...exit });
    });
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    let config: ConnectConfig;
    let pins: HostKeyPins;
    let Ssh: typeof Client;
    try {
      Ssh = (await loadSsh2()).Client;
      pins = await loadPins(this.#opts.target).catch((err: unknown) => {
        throw this.#error('SSH_HOST_KEY', errorMessage(err), false);
      });
      config = await this.#config(pins);
    } catch (err) {
      this.#down(err instanceof OutpostError ? err : this.#error('SSH_CONNECT', errorMessage(err)));
      return;
    }
    if (this.#stopped) return;
    // Its turn among the hosts' handshakes; held until the login is done or failed.
    const release = await (this.#opts.handshakes?.acquire() ?? noSlot);
    if (this.#stopped) return release();
    await new Promise<void>((resolve) =>
      this.#dial(new Ssh(), config, pins, () => {
        release();
        resolve();
      }),
    );
  }

  #dial(client: Client, config: ConnectConfig, pins: HostKeyPins, settled: () => void): void {
    this.#client = client;
    let failure: OutpostError | undefined;
    let hostKeyError: OutpostError | undefined;
    config.hostVerifier = (key: Buffer) => {
      const why = refusal(key, pins);
      if (why) hostKeyError = this.#error('SSH_HOST_KEY', why, false);
      return why === undefined;
    };
    client.on('ready', () => {
      this.#ready = true;
      this.#lastError = undefined;
      this.#backoff.reset();
      this.#opts.log.info({ host: this.#opts.name }, 'ssh connected');
      this.#status({ connected: true });
      settled();
    });
    client.on('error', (err: Error & { level?: string }) => {
      failure = hostKeyError ?? this.#classify(err, this.#ready);
    });
    client.on('close', () => {
      if (this.#client === client) {
        this.#client = undefined;
        this.#ready = false;
        const err = failure ?? this.#error('SSH_DISCONNECTED', 'connection closed');
        this.#rejectPending(err);
        if (!this.#stopped) this.#down(err);
      }
      settled();
    });
    client.connect(config);
  }

  #down(err: OutpostError): void {
    this.#lastError = err;
    const delay = this.#backoff.next();
    this.#opts.log.warn({ host: this.#opts.name, err: err.message, retryInMs: delay }, 'ssh down');
    this.#status({ connected: false, error: err });
    if (!this.#stopped) {
      this.#timer = this.#opts.clock.setTimeout(() => void this.#connect(), delay);
    }
  }

  async #config(pins: HostKeyPins): Promise<ConnectConfig> {
    const { target } = this.#opts;
    const agent = this.#opts.agentSocket ?? process.env.SSH_AUTH_SOCK;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      keepaliveInterval: this.#opts.keepaliveMs ?? 15_000,
      keepaliveCountMax: this.#opts.keepaliveCountMax ?? 3,
      readyTimeout: this.#opts.readyTimeoutMs ?? 20_000,
    };
    if (target.keyFile) {
      config.privateKey = await readFile(target.keyFile).catch((err: unknown) => {
        throw this.#error(
          'SSH_CONNECT',
          `cannot read key_file ${target.keyFile}: ${errorMessage(err)}`,
        );
      });
      if (target.passphrase !== undefined) config.passphrase = target.passphrase;
    } else if (agent) {
      config.agent = agent;
    } else {
      throw this.#error('SSH_CONNECT', 'no ssh.key_file and no SSH agent (SSH_AUTH_SOCK unset)');
    }
    // Offer only the key types that are pinned, so the server cannot pick another type
    // of key the operator never pinned (what OpenSSH does with known_hosts too).
    const types = pinnedKeyTypes(pins);
    if (types.length > 0) {
      config.algorithms = { serverHostKey: hostKeyAlgorithms(types) as never };
    }
    return config;
  }

  #classify(err: Error & { level?: string }, wasReady: boolean): OutpostError {
    if (wasReady) return this.#error('SSH_DISCONNECTED', `connection lost: ${err.message}`);
    if (err.level === 'client-authentication') {
      return this.#error('SSH_CONNECT', `authentication as ${this.#opts.target.user} failed`);
    }
    return this.#error('SSH_CONNECT', `cannot connect: ${err.message}`);
  }

  #rejectPending(err: OutpostError): void {
    for (const fail of [...this.#pending]) fail(err);
  }

  #status(s: SshStatus): void {
    try {
      this.#opts.onStatus?.(s);
    } catch (err) {
      this.#opts.log.error(
        { host: this.#opts.name, err: errorMessage(err) },
        'ssh status listener',
      );
    }
  }

  #error(code: OutpostError['code'], message: string, retryable = true): OutpostError {
    const { name, target } = this.#opts;
    return new OutpostError(code, `${name} (ssh ${target.host}:${target.port}): ${message}`, {
      retryable,
    });
  }
}

/** A host's `ssh` config section as the connection's target. */
export function sshTarget(s: NonNullable<HostConfig['ssh']>): SshTarget {
  return {
    host: s.host,
    port: s.port,
    user: s.user,
    keyFile: s.key_file,
    passphrase: s.passphrase,
    hostKey: s.host_key,
    knownHosts: s.known_hosts,
  };
}
