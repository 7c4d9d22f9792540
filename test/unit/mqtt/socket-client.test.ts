import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMqtt, socketTarget } from '../../../src/mqtt/socket-client.js';

describe('socketTarget', () => {
  const none = {};
  it('opens plain TCP for mqtt:// and tcp://, with the default port 1883', () => {
    expect(socketTarget('mqtt://127.0.0.1:18830', none, undefined)).toEqual({
      host: '127.0.0.1',
      port: 18830,
      tls: false,
    });
    expect(socketTarget('tcp://broker.lan', none, undefined)).toEqual({
      host: 'broker.lan',
      port: 1883,
      tls: false,
    });
  });

  it('opens TLS for mqtts:// and ssl://, with the default port 8883, IPv6 unbracketed', () => {
    expect(socketTarget('mqtts://[::1]', none, undefined)).toEqual({
      host: '::1',
      port: 8883,
      tls: true,
    });
    expect(socketTarget('ssl://central.example:9883', none, undefined)?.tls).toBe(true);
  });

  it('turns mqtt:// into TLS with a client certificate and key, as mqtt.js does', () => {
    const pem = { cert: Buffer.from('c'), key: Buffer.from('k') };
    expect(socketTarget('mqtt://broker.lan', pem, undefined)).toEqual({
      host: 'broker.lan',
      port: 8883,
      tls: true,
    });
  });

  it('leaves WebSockets, logins in the URL, queries and SOCKS proxies to mqtt.connect()', () => {
    expect(socketTarget('ws://broker.lan:9001/mqtt', none, undefined)).toBeUndefined();
    expect(socketTarget('wss://broker.lan/mqtt', none, undefined)).toBeUndefined();
    expect(socketTarget('mqtt://u:p@broker.lan', none, undefined)).toBeUndefined();
    expect(socketTarget('mqtt://broker.lan?clientId=x', none, undefined)).toBeUndefined();
    expect(socketTarget('mqtt://broker.lan', none, 'socks5://127.0.0.1:1080')).toBeUndefined();
    expect(socketTarget('not a url', none, undefined)).toBeUndefined();
  });
});

describe('connectMqtt', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('sends its CONNECT over the socket it opened itself', async () => {
    const first = new Promise<Buffer>((resolve) => {
      server = createServer((socket) => socket.once('data', resolve));
    });
    const port = await new Promise<number>((resolve) =>
      server!.listen(0, '127.0.0.1', () => {
        const a = server!.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      }),
    );
    const client = connectMqtt(`mqtt://127.0.0.1:${port}`, {
      clientId: 'socket-client-test',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    client.on('error', () => undefined);
    const packet = await first;
    client.end(true);
    expect(packet[0]! >> 4).toBe(1); // CONNECT (MQTT 3.1.1 §2.2.1)
    expect(packet.includes(Buffer.from('socket-client-test'))).toBe(true);
  });
});
