import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { parseHostPort } from '../../../src/config/units.js';

function watchdog(yaml: string) {
  return parseConfig(`node: { id: edge }\nwatchdog: ${yaml}\n`, { env: {} }).config.watchdog;
}

function problems(yaml: string): string[] {
  try {
    watchdog(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('watchdog config', () => {
  it('is off unless the section is there; an empty section takes the defaults', () => {
    expect(parseConfig('node: { id: edge }\n', { env: {} }).config.watchdog).toBeUndefined();
    expect(watchdog('{}')).toEqual({
      interval: 30_000,
      grace: 300_000,
      max_unhealthy: 180_000,
      checks: [],
      device: { path: '/dev/watchdog', enabled: false },
    });
  });

  it('parses each kind of check with its defaults', () => {
    const w = watchdog(`
  interval: 10s
  checks:
    - { id: sshd, tcp: "127.0.0.1:22" }
    - { id: central, tcp: "[::1]:8883", class: uplink, fail_after: 3 }
    - { id: ha, http: "http://127.0.0.1:8123/api/", timeout: 2s }
    - { id: z2m, command: [systemctl, is-active, zigbee2mqtt] }
  device: { path: /tmp/wd, enabled: true }`)!;
    expect(w.interval).toBe(10_000);
    expect(w.device).toEqual({ path: '/tmp/wd', enabled: true });
    expect(w.checks).toEqual([
      {
        id: 'sshd',
        tcp: { host: '127.0.0.1', port: 22 },
        class: 'local',
        timeout: 5000,
        fail_after: 2,
      },
      {
        id: 'central',
        tcp: { host: '::1', port: 8883 },
        class: 'uplink',
        timeout: 5000,
        fail_after: 3,
      },
      {
        id: 'ha',
        http: 'http://127.0.0.1:8123/api/',
        class: 'local',
        timeout: 2000,
        fail_after: 2,
      },
      {
        id: 'z2m',
        command: ['systemctl', 'is-active', 'zigbee2mqtt'],
        class: 'local',
        timeout: 5000,
        fail_after: 2,
      },
    ]);
  });

  it('names the field, the value and what was expected', () => {
    expect(
      problems(`
  interval: 30
  checks:
    - { id: "bad id", tcp: "127.0.0.1" }
    - { id: a, tcp: "h:1", http: "http://h/" }
    - { id: b }
    - { id: c, http: "ftp://h/", class: remote, fail_after: 0 }
    - { id: d, command: "systemctl is-active sshd", timeout: soon }
    - { id: a, tcp: "[::1]:0" }
  device: { enabled: yes }`),
    ).toEqual([
      'watchdog.interval: expected a duration such as "30s" (units ms, s, m, h, d), got 30',
      'watchdog.checks[0].id: expected a check id of letters, digits, _ or -, got "bad id"',
      'watchdog.checks[0].tcp: expected host:port such as "127.0.0.1:22" or "[::1]:1883" with a port 1-65535, got "127.0.0.1"',
      'watchdog.checks[1].http: expected exactly one of tcp, http, command, route, link, ping, dns, mqtt, not tcp and http, got "http://h/"',
      'watchdog.checks[2]: expected exactly one of tcp, http, command, route, link, ping, dns, mqtt, got a mapping',
      'watchdog.checks[3].http: expected an http(s) URL such as "http://127.0.0.1:8123/", got "ftp://h/"',
      'watchdog.checks[3].class: expected local (counts toward healthy) or uplink (gates the uplink), got "remote"',
      'watchdog.checks[3].fail_after: expected a whole number of consecutive failures, 1 or more, got 0',
      'watchdog.checks[4].command: expected the command as a list of words such as [systemctl, is-active, sshd], got "systemctl is-active sshd"',
      'watchdog.checks[4].timeout: expected a duration such as "5s" (units ms, s, m, h, d), got "soon"',
      'watchdog.checks[5].tcp: expected host:port such as "127.0.0.1:22" or "[::1]:1883" with a port 1-65535, got "[::1]:0"',
      'watchdog.device.enabled: expected true or false, got "yes"',
    ]);
  });

  it('parses the built-in probes, grace and max_unhealthy', () => {
    const w = watchdog(`
  grace: 10m
  max_unhealthy: 90s
  checks:
    - { id: route, route: {} }
    - { id: lte, route: { interface: wwan0, family: ipv4 }, class: uplink }
    - { id: eth, link: eth0 }
    - { id: gw, ping: 192.168.1.1, timeout: 2s }
    - { id: gw6, ping: "fe80::1" }
    - { id: gwtcp, ping: "router.lan:53" }
    - { id: dns, dns: { name: example.com } }
    - { id: dns6, dns: { name: nas.lan, servers: ["127.0.0.1:5353", "::1", "[::1]:53"], type: AAAA } }
    - id: mqtt
      mqtt:
        url: mqtts://central.example:8883
        username: edge
        password: secret
        ca_file: /etc/ca.pem
        protocol: "5"
  device: { enabled: true, timeout: 60s }`)!;
    expect(w.grace).toBe(600_000);
    expect(w.max_unhealthy).toBe(90_000);
    expect(w.device).toEqual({ path: '/dev/watchdog', enabled: true, timeout: 60_000 });
    const kinds = w.checks.map(({ id: _id, class: _c, timeout: _t, fail_after: _f, ...k }) => k);
    expect(kinds).toEqual([
      { route: { family: 'any' } },
      { route: { interface: 'wwan0', family: 'ipv4' } },
      { link: 'eth0' },
      { ping: { host: '192.168.1.1' } },
      { ping: { host: 'fe80::1' } },
      { ping: { host: 'router.lan', port: 53 } },
      { dns: { name: 'example.com', type: 'A' } },
      { dns: { name: 'nas.lan', servers: ['127.0.0.1:5353', '::1', '[::1]:53'], type: 'AAAA' } },
      {
        mqtt: {
          url: 'mqtts://central.example:8883',
          username: 'edge',
          password: 'secret',
          ca_file: '/etc/ca.pem',
          protocol: '5',
        },
      },
    ]);
  });

  it('names the field, the value and what was expected for the built-in probes', () => {
    expect(
      problems(`
  grace: soon
  max_unhealthy: 3
  checks:
    - { id: a, route: { interface: "eth0; reboot" } }
    - { id: b, route: { via: eth0 } }
    - { id: c, link: "../../etc" }
    - { id: d, link: averyveryverylongname0 }
    - { id: e, ping: "-f 127.0.0.1" }
    - { id: f, ping: "host name" }
    - { id: g, dns: { name: "-x" } }
    - { id: h, dns: { name: a.lan, servers: ["dns.google"] } }
    - { id: i, dns: example.com }
    - { id: j, mqtt: { url: "http://h:1883" } }
    - { id: k, mqtt: { url: "mqtt://h:1883", protocol: 4 } }
    - { id: l, link: eth0, ping: 10.0.0.1 }
  device: { timeout: 1 }`),
    ).toEqual([
      'watchdog.grace: expected a duration such as "5m" (units ms, s, m, h, d), got "soon"',
      'watchdog.max_unhealthy: expected a duration such as "3m" (units ms, s, m, h, d), got 3',
      'watchdog.checks[0].route.interface: expected a network interface name such as "wwan0" (letters, digits, _ . -, at most 15), got "eth0; reboot"',
      'watchdog.checks[1].route.via: unknown key; expected one of: interface, family',
      'watchdog.checks[2].link: expected a network interface name such as "eth0" (letters, digits, _ . -, at most 15), got "../../etc"',
      'watchdog.checks[3].link: expected a network interface name such as "eth0" (letters, digits, _ . -, at most 15), got "averyveryverylongname0"',
      'watchdog.checks[4].ping: expected an IP address or a host name such as "192.168.1.1", or host:port such as "192.168.1.1:53" to ping over TCP, got "-f 127.0.0.1"',
      'watchdog.checks[5].ping: expected an IP address or a host name such as "192.168.1.1", or host:port such as "192.168.1.1:53" to ping over TCP, got "host name"',
      'watchdog.checks[6].dns.name: expected an IP address or a host name such as "example.com", got "-x"',
      'watchdog.checks[7].dns.servers[0]: expected a DNS server IP address such as "192.168.1.1" or "127.0.0.1:5353", got "dns.google"',
      'watchdog.checks[8].dns: expected a mapping such as { name: example.com }, got "example.com"',
      'watchdog.checks[9].mqtt.url: expected a broker URL such as "mqtt://127.0.0.1:1883" or "mqtts://host:8883", got "http://h:1883"',
      'watchdog.checks[10].mqtt.protocol: expected "3.1.1" or "5", got 4',
      'watchdog.checks[11].ping: expected exactly one of tcp, http, command, route, link, ping, dns, mqtt, not link and ping, got a mapping',
      'watchdog.device.timeout: expected a duration such as "60s" (units ms, s, m, h, d), got 1',
    ]);
  });

  it('wants unique check ids', () => {
    expect(problems('{ checks: [{ id: a, tcp: "h:1" }, { id: a, tcp: "h:2" }] }')).toEqual([
      'watchdog.checks[1].id: expected a unique check id, got "a"',
    ]);
  });

  it('parses host:port targets, IPv6 in brackets', () => {
    expect(parseHostPort('nas.lan:443')).toEqual({ host: 'nas.lan', port: 443 });
    expect(parseHostPort('[::1]:1883')).toEqual({ host: '::1', port: 1883 });
    expect(parseHostPort(':22')).toBeUndefined();
    expect(parseHostPort('::1:22')).toBeUndefined();
    expect(parseHostPort('h:65536')).toBeUndefined();
  });
});
