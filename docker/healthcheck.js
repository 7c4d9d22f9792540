// Container health check (Dockerfile HEALTHCHECK): Node and the agent's own modules only,
// no curl or mosquitto_sub in the image. Exit 0 healthy, 1 not, with one line saying why.
//
// - Embedded broker: it must answer an MQTT CONNECT on its listen port over loopback. When
//   it admits this anonymous probe, the agent's retained availability must also be
//   "online"; a refusal for credentials (CONNACK 4/5) still proves the broker is serving.
// - External broker: the agent's retained availability there must be "online", read with
//   the credentials and TLS files of the config (the same view Home Assistant has).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { configPath, loadConfig } from '../dist/src/config/load.js';
import { topics } from '../dist/src/core/topics.js';

const TIMEOUT_MS = 8_000; // under the HEALTHCHECK --timeout of 10 s
/** MQTT 3.1.1 §3.2.2.3: 4 bad user name or password, 5 not authorized. */
const AUTH_REFUSED = new Set([4, 5, 134, 135]);

function loopbackUrl(listen) {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `mqtt://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

function externalOptions(broker) {
  const tls = broker.client_tls;
  const read = (file) => (file ? readFileSync(file) : undefined);
  return {
    username: broker.username,
    password: broker.password,
    ca: read(tls?.ca_file),
    cert: read(tls?.cert_file),
    key: read(tls?.key_file),
    rejectUnauthorized: tls?.reject_unauthorized ?? true,
    protocolVersion: broker.protocol === '5' ? 5 : 4,
  };
}

async function retainedAvailability(client, topic) {
  const got = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 3_000);
    client.on('message', (t, payload, packet) => {
      if (t === topic && packet.retain) {
        clearTimeout(timer);
        resolve(payload.toString());
      }
    });
  });
  await client.subscribeAsync(topic, { qos: 0 });
  return got;
}

async function check() {
  const { config } = loadConfig(configPath(undefined, process.env), process.env);
  const topic = topics.availability({ base: config.mqtt.base_topic, node: config.node.id });
  const embedded = config.broker.mode === 'embedded';
  const url = embedded ? loopbackUrl(config.broker.listen) : config.broker.url;
  let client;
  try {
    client = await connectAsync(url, {
      ...(embedded ? { protocolVersion: 4 } : externalOptions(config.broker)),
      clientId: `outpost-health-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clean: true,
    });
  } catch (err) {
    if (embedded && AUTH_REFUSED.has(err?.code)) {
      return [true, `embedded broker at ${url} answers (CONNACK ${err.code})`];
    }
    return [false, `cannot connect to ${url}: ${err?.message ?? err}`];
  }
  try {
    const state = await retainedAvailability(client, topic);
    return state === 'online'
      ? [true, `${topic} is online`]
      : [false, `${topic} is ${state === undefined ? 'not retained' : JSON.stringify(state)}`];
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

const deadline = new Promise((resolve) =>
  setTimeout(() => resolve([false, `no answer within ${TIMEOUT_MS} ms`]), TIMEOUT_MS).unref(),
);
const [ok, why] = await Promise.race([
  check().catch((err) => [false, err?.message ?? String(err)]),
  deadline,
]);
console.log(`${ok ? 'healthy' : 'unhealthy'}: ${why}`);
process.exit(ok ? 0 : 1);
