import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureServers, requireBinary } from './apt.js';
import { startOpenSslCa, type OpenSslCa } from './openssl-ca.js';
import { getFreePorts, LOOPBACK, retryOnPortClash } from './ports.js';
import { canConnect, startProcess, type ServerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

export { startOpenSslCa, type OpenSslCa } from './openssl-ca.js';

const execFileAsync = promisify(execFile);

export type MosquittoListener = 'anonymous' | 'password' | 'tls';

export interface MosquittoOptions {
  /** Listeners to open; all three by default. */
  listeners?: readonly MosquittoListener[];
  /** Keep retained messages and sessions across down()/up(); default false. */
  persistence?: boolean;
  /** Credentials of the password and TLS listeners; default "outpost" and a random password. */
  username?: string;
  password?: string;
  /** The TLS listener also requires a client certificate signed by the CA (see `ca`). */
  requireClientCert?: boolean;
}

type Ports = Partial<Record<MosquittoListener, number>>;

interface BrokerSettings {
  username: string;
  password: string;
  persistence: boolean;
}

/**
 * One mosquitto 2.0 with `per_listener_settings true` and up to three listeners on
 * 127.0.0.1: anonymous, password file, TLS + password file.
 */
export class MosquittoBroker {
  readonly dir: string;
  readonly configFile: string;
  readonly username: string;
  readonly password: string;
  readonly persistence: boolean;
  readonly #ports: Ports;
  readonly #ca: OpenSslCa | undefined;
  #process: ServerProcess | undefined;

  constructor(dir: string, settings: BrokerSettings, ports: Ports, ca?: OpenSslCa) {
    this.dir = dir;
    this.configFile = join(dir, 'mosquitto.conf');
    this.username = settings.username;
    this.password = settings.password;
    this.persistence = settings.persistence;
    this.#ports = ports;
    this.#ca = ca;
  }

  /** mqtt://127.0.0.1:PORT of the anonymous listener. */
  get url(): string {
    return `mqtt://${LOOPBACK}:${this.port}`;
  }
  /** mqtt://127.0.0.1:PORT of the password listener (use username/password). */
  get authUrl(): string {
    return `mqtt://${LOOPBACK}:${this.authPort}`;
  }
  /** mqtts://127.0.0.1:PORT of the TLS listener (use caPem, username/password). */
  get tlsUrl(): string {
    return `mqtts://${LOOPBACK}:${this.tlsPort}`;
  }
  get port(): number {
    return this.#listenerPort('anonymous');
  }
  get authPort(): number {
    return this.#listenerPort('password');
  }
  get tlsPort(): number {
    return this.#listenerPort('tls');
  }
  /** The CA and client certificate of the TLS listener. */
  get ca(): OpenSslCa {
    if (!this.#ca) throw new Error('the TLS listener of this mosquitto is not enabled');
    return this.#ca;
  }
  get caFile(): string {
    return this.ca.caFile;
  }
  get caPem(): string {
    return this.ca.caPem;
  }
  /** PID of the running broker; undefined while it is down. */
  get pid(): number | undefined {
    return this.#process && !this.#process.exited ? this.#process.pid : undefined;
  }
  get logFile(): string {
    return join(this.dir, 'mosquitto.log');
  }
  get isUp(): boolean {
    return this.pid !== undefined;
  }

  /** Starts the broker (again) on the same ports with the same files. */
  async up(): Promise<void> {
    if (this.isUp) return;
    const ports = Object.values<number>(this.#ports);
    this.#process = await startProcess({
      name: 'mosquitto',
      command: await requireBinary('mosquitto'),
      args: ['-c', this.configFile],
      dir: this.dir,
      ready: {
        kind: 'predicate',
        description: `tcp ${LOOPBACK}:${ports.join(',')}`,
        check: async () =>
          (await Promise.all(ports.map((p) => canConnect(LOOPBACK, p)))).every(Boolean),
      },
    });
  }

  /** Stops the broker but keeps its dir and ports; `crash` kills it with SIGKILL (no save). */
  async down(opts: { crash?: boolean } = {}): Promise<void> {
    const proc = this.#process;
    if (!proc || proc.exited) return;
    if (opts.crash) process.kill(proc.pid, 'SIGKILL');
    await proc.stop();
  }

  async restart(): Promise<void> {
    await this.down();
    await this.up();
  }

  /** Stops the broker and removes its temp dir. */
  async stop(): Promise<void> {
    await this.down();
    await removeTempDir(this.dir);
  }

  #listenerPort(listener: MosquittoListener): number {
    const port = this.#ports[listener];
    if (port === undefined)
      throw new Error(`the ${listener} listener of this mosquitto is not enabled`);
    return port;
  }
}

/** Starts mosquitto in a fresh temp dir on random loopback ports. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  await ensureServers(['mosquitto']);
  const listeners = new Set(opts.listeners ?? ['anonymous', 'password', 'tls']);
  const settings: BrokerSettings = {
    username: opts.username ?? 'outpost',
    password: opts.password ?? randomBytes(9).toString('base64url'),
    persistence: opts.persistence ?? false,
  };
  const dir = await makeTempDir('mosquitto');
  try {
    const ca = listeners.has('tls') ? await startOpenSslCa(await subdir(dir, 'tls')) : undefined;
    if (listeners.has('password') || listeners.has('tls')) {
      await writePasswordFile(join(dir, 'passwd'), settings.username, settings.password);
    }
    if (settings.persistence) await giveToMosquittoUser(await subdir(dir, 'data'));
    return await retryOnPortClash(async () => {
      const free = await getFreePorts(3);
      const ports: Ports = {};
      for (const [i, name] of (['anonymous', 'password', 'tls'] as const).entries()) {
        if (listeners.has(name)) ports[name] = free[i]!;
      }
      const broker = new MosquittoBroker(dir, settings, ports, ca);
      const tlsOpts = { ca, requireClientCert: opts.requireClientCert ?? false };
      await writeFile(broker.configFile, renderConfig(dir, ports, settings.persistence, tlsOpts));
      await broker.up();
      return broker;
    });
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

function renderConfig(
  dir: string,
  ports: Ports,
  persistence: boolean,
  tls: { ca: OpenSslCa | undefined; requireClientCert: boolean },
): string {
  const lines = ['per_listener_settings true', 'log_dest stdout', `persistence ${persistence}`];
  // A persistent session keeps every message while its client reconnects: by default
  // mosquitto queues 1,000 per client and drops the rest, and a publisher that is back first
  // after a restart outruns that (a test would then miss what the broker acknowledged).
  if (persistence)
    lines.push(`persistence_location ${join(dir, 'data')}/`, 'max_queued_messages 0');
  if (ports.anonymous !== undefined) {
    lines.push('', `listener ${ports.anonymous} ${LOOPBACK}`, 'allow_anonymous true');
  }
  const passwordLines = ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`];
  if (ports.password !== undefined) {
    lines.push('', `listener ${ports.password} ${LOOPBACK}`, ...passwordLines);
  }
  if (ports.tls !== undefined && tls.ca) {
    lines.push('', `listener ${ports.tls} ${LOOPBACK}`, ...passwordLines);
    lines.push(
      `cafile ${tls.ca.caFile}`,
      `certfile ${tls.ca.serverCertFile}`,
      `keyfile ${tls.ca.serverKeyFile}`,
    );
    lines.push(`require_certificate ${tls.requireClientCert}`);
  }
  return `${lines.join('\n')}\n`;
}

// Run as root, mosquitto switches to user "mosquitto" before it reads the password file
// and TLS key, so they must be readable by others.
async function writePasswordFile(file: string, username: string, password: string): Promise<void> {
  await execFileAsync(await requireBinary('mosquitto_passwd'), [
    '-b',
    '-c',
    file,
    username,
    password,
  ]);
  await chmod(file, 0o644);
}

async function subdir(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { mode: 0o755 });
  return path;
}

// The persistence dir must be writable by the user mosquitto drops to when run as root.
async function giveToMosquittoUser(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((line) => line.startsWith('mosquitto:'));
  const [uid, gid] = (entry?.split(':').slice(2, 4) ?? []).map(Number);
  if (uid === undefined || gid === undefined) {
    await chmod(dir, 0o777);
  } else {
    await chown(dir, uid, gid);
  }
}
