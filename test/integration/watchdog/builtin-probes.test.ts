import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dnsProbe } from '../../../src/collectors/watchdog/dns-probe.js';
import { linkProbe } from '../../../src/collectors/watchdog/link-probe.js';
import { mqttProbe, type MqttProbeOptions } from '../../../src/collectors/watchdog/mqtt-probe.js';
import { pingProbe } from '../../../src/collectors/watchdog/ping-probe.js';
import { routeProbe } from '../../../src/collectors/watchdog/route-probe.js';
import { ensureServers, requireBinary } from '../../helpers/apt.js';
import { startDnsServer, type DnsServer } from '../../helpers/dns-server.js';
import { startEmbeddedBroker, type TestBroker } from '../../helpers/embedded-broker.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { getFreePort, LOOPBACK } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const execFileAsync = promisify(execFile);
const never = new AbortController().signal;

let tmp: string;
let cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  tmp = await makeTempDir('watchdog-probes');
});
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});
afterAll(async () => {
  if (tmp) await removeTempDir(tmp);
});

describe('route check', () => {
  it('finds the default route this machine has, as `ip route` shows it', async () => {
    const ip = await requireBinary('ip');
    const { stdout } = await execFileAsync(ip, ['-j', 'route', 'show', 'default']);
    const routes = JSON.parse(stdout) as { dev: string; gateway?: string }[];
    const r = await routeProbe({ family: 'ipv4' })(never);
    if (routes.length === 0) {
      expect(r).toEqual({ ok: false, message: 'no ipv4 default route' });
      return;
    }
    const first = routes[0]!;
    expect(r.ok).toBe(true);
    expect(r.message).toBe(
      `default ${first.gateway ? `via ${first.gateway} ` : ''}dev ${first.dev}`,
    );
    // Through its own interface it counts; through lo (never a default route) it does not.
    expect((await routeProbe({ family: 'any', iface: first.dev })(never)).ok).toBe(true);
    expect(await routeProbe({ family: 'any', iface: 'lo' })(never)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^no default route through lo \(there is default .*dev /),
    });
  });

  it('is down on tables without a default route, and reads an IPv6 one', async () => {
    const dir = join(tmp, 'proc-net');
    await mkdir(dir, { recursive: true });
    // Captured from a host whose uplink went away: its subnet route only; IPv6 has the
    // kernel's unreachable default on lo (a reject route), which does not count.
    await writeFile(
      join(dir, 'route'),
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
        'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
    );
    await writeFile(
      join(dir, 'ipv6_route'),
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 ' +
        '00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n',
    );
    expect(await routeProbe({ family: 'any', procNet: dir })(never)).toEqual({
      ok: false,
      message: 'no default route',
    });
    await writeFile(
      join(dir, 'ipv6_route'),
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 ' +
        'fe800000000000000000000000000001 00000400 00000003 00000000 00000003   wwan0\n',
    );
    expect(await routeProbe({ family: 'any', procNet: dir })(never)).toEqual({
      ok: true,
      message: 'default via fe80::1 dev wwan0',
    });
    expect(await routeProbe({ family: 'ipv4', procNet: dir })(never)).toEqual({
      ok: false,
      message: 'no ipv4 default route',
    });
  });
});

describe('link check', () => {
  it('is up on lo, down on an interface that does not exist', async () => {
    expect(await linkProbe('lo')(never)).toEqual({
      ok: true,
      message: 'lo: carrier up, operstate unknown',
    });
    expect(await linkProbe('nosuch0')(never)).toEqual({
      ok: false,
      message: 'no interface nosuch0',
    });
  });

  it('is down without carrier, and refuses a name that is not one', async () => {
    const sys = join(tmp, 'sys-class-net');
    await mkdir(join(sys, 'eth1'), { recursive: true });
    await writeFile(join(sys, 'eth1', 'operstate'), 'down\n');
    await writeFile(join(sys, 'eth1', 'carrier'), '0\n');
    expect(await linkProbe('eth1', sys)(never)).toEqual({
      ok: false,
      message: 'eth1: carrier down, operstate down',
    });
    expect(() => linkProbe('../../etc')).toThrow(/not an interface name/);
  });
});

describe('ping check', () => {
  beforeAll(() => ensureServers(['ping']));

  it('is up when 127.0.0.1 and ::1 answer an ICMP echo', async () => {
    // ICMP needs CAP_NET_RAW or ping_group_range: the tests run as root (CI too).
    const v4 = await pingProbe('127.0.0.1', 2000)(never);
    expect(v4).toMatchObject({ ok: true });
    expect(v4.message).toMatch(/^reply from 127\.0\.0\.1 in [\d.]+ ms$/);
    expect((await pingProbe('::1', 2000)(never)).ok).toBe(true);
  });

  it('says what is wrong when ping cannot run, and takes no option for a host', async () => {
    expect(await pingProbe('127.0.0.1', 1000, 'no-such-ping')(never)).toEqual({
      ok: false,
      message: 'no-such-ping not found: install iputils-ping',
    });
    expect(() => pingProbe('-f', 1000)).toThrow(/not an IP address or host name/);
  });
});

describe('dns check', () => {
  let dns: DnsServer;
  let dns6: DnsServer;
  beforeAll(async () => {
    const records = {
      A: { 'nas.lan': ['192.0.2.10', '192.0.2.11'] },
      AAAA: { 'nas.lan': ['2001:db8::10'] },
      silent: ['slow.lan'],
    };
    dns = await startDnsServer(records);
    dns6 = await startDnsServer(records, '::1');
  });
  afterAll(async () => {
    await dns?.close();
    await dns6?.close();
  });

  it('is up when the name resolves, through the configured server', async () => {
    const base = { name: 'nas.lan', servers: [dns.address], timeoutMs: 2000 };
    expect(await dnsProbe({ ...base, type: 'A' })(never)).toEqual({
      ok: true,
      message: 'A nas.lan resolves to 192.0.2.10, 192.0.2.11',
    });
    expect(await dnsProbe({ ...base, type: 'AAAA', servers: [dns6.address] })(never)).toEqual({
      ok: true,
      message: 'AAAA nas.lan resolves to 2001:db8::10',
    });
    expect(dns.queries).toContain('A nas.lan');
    expect(dns6.queries).toContain('AAAA nas.lan');
  });

  it('is down on NXDOMAIN, on no answer in time, and on a server that is not there', async () => {
    const probe = (name: string, servers: string[]) =>
      dnsProbe({ name, type: 'A', servers, timeoutMs: 500 })(never);
    expect(await probe('gone.lan', [dns.address])).toEqual({
      ok: false,
      message: 'A gone.lan does not resolve: ENOTFOUND',
    });
    expect(await probe('slow.lan', [dns.address])).toEqual({
      ok: false,
      message: 'A slow.lan does not resolve: ETIMEOUT',
    });
    expect(dns.queries).toContain('A slow.lan');
    const closed = await probe('nas.lan', [`${LOOPBACK}:${await getFreePort()}`]);
    expect(closed.ok).toBe(false);
  });

  it('gives up when aborted', async () => {
    const ctrl = new AbortController();
    const pending = dnsProbe({
      name: 'slow.lan',
      type: 'A',
      servers: [dns.address],
      timeoutMs: 60_000,
    })(ctrl.signal);
    ctrl.abort();
    expect(await pending).toEqual({
      ok: false,
      message: 'A slow.lan does not resolve: ECANCELLED',
    });
  });
});

describe('mqtt check', () => {
  let mosquitto: MosquittoBroker;
  let embedded: TestBroker;
  let embeddedDir: string;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
    embeddedDir = await makeTempDir('watchdog-embedded');
    embedded = await startEmbeddedBroker({
      dataDir: embeddedDir,
      yaml: `broker: { listen: "${LOOPBACK}:0", allow_anonymous: false, users: [{ username: ha, password: s3cret }] }\n`,
    });
  });
  afterAll(async () => {
    await embedded?.broker.stop();
    if (embeddedDir) await removeTempDir(embeddedDir);
    await mosquitto?.stop();
  });

  const check = (o: Partial<MqttProbeOptions> & { url: string }) =>
    mqttProbe({ protocol: '3.1.1', timeoutMs: 5000, ...o })(never);

  it('is up when the embedded broker accepts the login, down when it refuses it', async () => {
    expect(await check({ url: embedded.url, username: 'ha', password: 's3cret' })).toEqual({
      ok: true,
      message: `CONNACK from ${embedded.url}`,
    });
    const wrong = await check({ url: embedded.url, username: 'ha', password: 'wrong' });
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toMatch(/Bad username or password|Not authorized/);
    expect(wrong.message).toMatch(/CONNACK code [45]/);
  });

  it('is up on a real mosquitto, anonymous, with a password, over TLS, and MQTT 5', async () => {
    expect((await check({ url: mosquitto.url })).ok).toBe(true);
    expect((await check({ url: mosquitto.url, protocol: '5' })).ok).toBe(true);
    const login = { username: mosquitto.username, password: mosquitto.password };
    expect((await check({ url: mosquitto.authUrl, ...login })).ok).toBe(true);
    expect(
      (await check({ url: mosquitto.tlsUrl, ...login, tls: { caFile: mosquitto.caFile } })).ok,
    ).toBe(true);
  });

  it('is down on wrong credentials, an untrusted certificate or a missing CA file', async () => {
    const wrong = await check({
      url: mosquitto.authUrl,
      username: mosquitto.username,
      password: 'wrong',
    });
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toMatch(/Not authorized|Bad username or password/);
    const v5 = await check({ url: mosquitto.authUrl, username: 'x', password: 'y', protocol: '5' });
    expect(v5.ok).toBe(false);
    expect(v5.message).toMatch(/CONNACK code 13[45]/);
    const login = { username: mosquitto.username, password: mosquitto.password };
    const untrusted = await check({ url: mosquitto.tlsUrl, ...login });
    expect(untrusted.ok).toBe(false);
    expect(untrusted.message).toMatch(/certificate/i);
    const missing = join(tmp, 'no-ca.pem');
    expect(await check({ url: mosquitto.tlsUrl, ...login, tls: { caFile: missing } })).toEqual({
      ok: false,
      message: expect.stringContaining(`cannot read ca_file ${missing}: ENOENT`),
    });
  });

  it('is down on a closed port, and on a port that opens but speaks no MQTT', async () => {
    const closed = await check({ url: `mqtt://${LOOPBACK}:${await getFreePort()}` });
    expect(closed.ok).toBe(false);
    expect(closed.message).toContain('ECONNREFUSED');
    // A TCP check would call this up: it accepts, then hangs up without a CONNACK.
    const mute: Server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => mute.listen(0, LOOPBACK, resolve));
    cleanup.push(() => new Promise((resolve) => mute.close(() => resolve())));
    const port = (mute.address() as { port: number }).port;
    const r = await check({ url: `mqtt://${LOOPBACK}:${port}` });
    expect(r.ok).toBe(false);
    expect(r.message).toBe(`mqtt://${LOOPBACK}:${port} closed the connection before a CONNACK`);
  });
});
