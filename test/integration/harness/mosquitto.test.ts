import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { isPidAlive } from '../../helpers/process.js';

async function roundTrip(url: string, opts: IClientOptions = {}): Promise<string> {
  const client = await connectAsync(url, { ...opts, reconnectPeriod: 0, connectTimeout: 5_000 });
  try {
    const topic = `harness/${Math.random().toString(36).slice(2)}`;
    const received = nextMessage(client, topic);
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, 'hello', { qos: 1 });
    return await received;
  } finally {
    await client.endAsync();
  }
}

function nextMessage(client: MqttClient, topic: string): Promise<string> {
  return new Promise((resolve) => {
    client.on('message', (t, payload) => {
      if (t === topic) resolve(payload.toString());
    });
  });
}

describe('startMosquitto', () => {
  let broker: MosquittoBroker;

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('serves the anonymous listener', async () => {
    expect(await roundTrip(broker.url)).toBe('hello');
  });

  it('requires the password on the auth listener', async () => {
    const creds = { username: broker.username, password: broker.password };
    expect(await roundTrip(broker.authUrl, creds)).toBe('hello');
    await expect(roundTrip(broker.authUrl)).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(roundTrip(broker.authUrl, { ...creds, password: 'wrong' })).rejects.toThrow();
  });

  it('serves TLS with a certificate for 127.0.0.1 signed by the CA', async () => {
    const creds = { username: broker.username, password: broker.password };
    expect(await roundTrip(broker.tlsUrl, { ...creds, ca: broker.caPem })).toBe('hello');
    // Without the CA the server certificate must not verify.
    await expect(roundTrip(broker.tlsUrl, creds)).rejects.toThrow(/certificate/i);
  });

  it('keeps retained messages across a restart on the same ports', async () => {
    const port = broker.port;
    const oldPid = broker.pid!;
    const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
    await client.publishAsync('harness/retained', 'kept', { qos: 1, retain: true });
    await client.endAsync();

    await broker.restart();
    expect(isPidAlive(oldPid)).toBe(false);
    expect(broker.port).toBe(port);

    const again = await connectAsync(broker.url, { reconnectPeriod: 0 });
    const received = nextMessage(again, 'harness/retained');
    await again.subscribeAsync('harness/retained');
    expect(await received).toBe('kept');
    await again.endAsync();
  });

  it('comes back on the same port after a crash (SIGKILL)', async () => {
    const oldPid = broker.pid!;
    await broker.down({ crash: true });
    expect(broker.isUp).toBe(false);
    expect(isPidAlive(oldPid)).toBe(false);
    await expect(roundTrip(broker.url)).rejects.toThrow(/ECONNREFUSED/);
    await broker.up();
    expect(broker.pid).not.toBe(oldPid);
    expect(await roundTrip(broker.url)).toBe('hello');
  });

  it('stops by PID', async () => {
    const other = await startMosquitto({ listeners: ['anonymous'] });
    const pid = other.pid!;
    expect(isPidAlive(pid)).toBe(true);
    expect(() => other.tlsUrl).toThrow(/not enabled/);
    await other.stop();
    expect(isPidAlive(pid)).toBe(false);
  });
});

describe('startMosquitto with client certificates', () => {
  it('requires a client certificate signed by the CA on the TLS listener', async () => {
    const broker = await startMosquitto({ listeners: ['tls'], requireClientCert: true });
    try {
      const base = { username: broker.username, password: broker.password, ca: broker.caPem };
      const withCert = { ...base, cert: broker.ca.clientCertPem, key: broker.ca.clientKeyPem };
      expect(await roundTrip(broker.tlsUrl, withCert)).toBe('hello');
      await expect(roundTrip(broker.tlsUrl, base)).rejects.toThrow();
    } finally {
      await broker.stop();
    }
  });
});
