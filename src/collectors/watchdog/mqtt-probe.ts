import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import mqtt, { type IClientOptions } from 'mqtt';
import { errorMessage } from '../../core/errors.js';
import type { Probe, ProbeResult } from './probes.js';

export interface MqttProbeOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM files for mqtts: the CA to verify the broker by, a client certificate and key. */
  readonly tls?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
  };
  readonly protocol: '3.1.1' | '5';
  readonly timeoutMs: number;
}

/**
 * Up when the broker accepts a CONNECT with a CONNACK (MQTT 3.1.1 §3.2, 5.0 §3.2): a port
 * that opens is not a broker that serves. One connection per run, clean, with a client id
 * of its own and no reconnect, closed with a DISCONNECT once accepted. A refusal (bad
 * credentials, not authorised) is down, with the broker's reason.
 */
export function mqttProbe(opts: MqttProbeOptions): Probe {
  return async (signal) => {
    let options: IClientOptions;
    try {
      options = await clientOptions(opts);
    } catch (err) {
      return { ok: false, message: errorMessage(err) };
    }
    if (signal.aborted) return { ok: false, message: 'aborted' };
    return new Promise<ProbeResult>((resolve) => {
      const client = mqtt.connect(opts.url, options);
      let settled = false;
      const done = (r: ProbeResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        // Accepted: a clean DISCONNECT; otherwise the socket is simply dropped.
        client.end(!r.ok);
        resolve(r);
      };
      const onAbort = () => done({ ok: false, message: `connect to ${opts.url} aborted` });
      signal.addEventListener('abort', onAbort, { once: true });
      client.once('connect', () => done({ ok: true, message: `CONNACK from ${opts.url}` }));
      client.once('error', (err) => done({ ok: false, message: refusal(err) }));
      client.once('close', () =>
        done({ ok: false, message: `${opts.url} closed the connection before a CONNACK` }),
      );
    });
  };
}

/** A refused CONNACK names its reason code; a socket error its errno. */
function refusal(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? `${err.message} (CONNACK code ${code})` : err.message;
}

async function clientOptions(opts: MqttProbeOptions): Promise<IClientOptions> {
  const file = async (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (err) {
      throw new Error(`cannot read ${what} ${path}: ${errorMessage(err)}`);
    }
  };
  const tls = opts.tls;
  return {
    clientId: `outpost-check-${randomBytes(6).toString('hex')}`,
    clean: true,
    protocolVersion: opts.protocol === '5' ? 5 : 4,
    reconnectPeriod: 0,
    connectTimeout: opts.timeoutMs,
    keepalive: 0,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ca: await file('ca_file', tls?.caFile),
    cert: await file('cert_file', tls?.certFile),
    key: await file('key_file', tls?.keyFile),
    rejectUnauthorized: true,
  };
}
