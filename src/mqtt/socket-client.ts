import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { coalesceWrites } from './coalesced-writes.js';

/**
 * An mqtt.js client whose socket is opened here, for the URLs the agent uses (mqtt://,
 * tcp://, mqtts://, ssl://). mqtt.connect() loads every transport it could need on its
 * first connect: the WebSocket client and a SOCKS proxy client with its IP-address
 * parser, ~1.1 MiB of V8 heap held for the life of the process, in an agent that talks
 * plain TCP to its own broker (issue 15). WebSocket URLs, a URL carrying its own login, and
 * a SOCKS proxy (MQTTJS_SOCKS_PROXY) still go through mqtt.connect().
 */
export function connectMqtt(url: string, opts: IClientOptions): MqttClient {
  const target = socketTarget(url, opts, process.env.MQTTJS_SOCKS_PROXY);
  if (target === undefined) return mqtt.connect(url, opts);
  const { host, port, tls } = target;
  // One chunk per turn instead of a dozen per packet, whichever the socket (coalesced-writes.ts).
  return new mqtt.MqttClient(
    (client) =>
      coalesceWrites(tls ? tlsSocket(client, host, port, opts) : netConnect({ host, port })),
    opts,
  );
}

/**
 * As mqtt.js's own TLS transport (lib/connect/tls.js): SNI for a host name, and a
 * handshake the client refuses reported on the client, whose stream handler drops errors
 * that carry no code.
 */
function tlsSocket(client: MqttClient, host: string, port: number, opts: IClientOptions) {
  const socket = tlsConnect({
    host,
    port,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    rejectUnauthorized: opts.rejectUnauthorized !== false,
  });
  const refused = (err: Error) => {
    if (opts.rejectUnauthorized !== false) client.emit('error', err);
    socket.end();
  };
  socket.on('error', refused);
  socket.on('secureConnect', () => socket.removeListener('error', refused));
  return socket;
}

/** Where to open the socket, or undefined when mqtt.connect() must handle the URL. */
export function socketTarget(
  url: string,
  opts: Pick<IClientOptions, 'cert' | 'key'>,
  socksProxy: string | undefined,
): { host: string; port: number; tls: boolean } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // mqtt.connect() says what is wrong with it
  }
  if (socksProxy || u.username !== '' || u.password !== '' || u.search !== '') return undefined;
  const scheme = u.protocol.replace(/:$/, '');
  if (!['mqtt', 'tcp', 'mqtts', 'ssl'].includes(scheme)) return undefined;
  const clientCert = opts.cert !== undefined && opts.key !== undefined;
  if (scheme === 'tcp' && clientCert) return undefined; // mqtt.connect() refuses it
  // mqtt.js turns mqtt:// into TLS when a client certificate and key are given.
  const tls = scheme === 'mqtts' || scheme === 'ssl' || clientCert;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port === '' ? (tls ? 8883 : 1883) : Number(u.port);
  return { host, port, tls };
}
