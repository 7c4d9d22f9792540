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
      'watchdog.checks[1].http: expected exactly one of tcp, http or command, not tcp and http, got "http://h/"',
      'watchdog.checks[2]: expected exactly one of tcp, http or command, got a mapping',
      'watchdog.checks[3].http: expected an http(s) URL such as "http://127.0.0.1:8123/", got "ftp://h/"',
      'watchdog.checks[3].class: expected local (counts toward healthy) or uplink (gates the uplink), got "remote"',
      'watchdog.checks[3].fail_after: expected a whole number of consecutive failures, 1 or more, got 0',
      'watchdog.checks[4].command: expected the command as a list of words such as [systemctl, is-active, sshd], got "systemctl is-active sshd"',
      'watchdog.checks[4].timeout: expected a duration such as "5s" (units ms, s, m, h, d), got "soon"',
      'watchdog.checks[5].tcp: expected host:port such as "127.0.0.1:22" or "[::1]:1883" with a port 1-65535, got "[::1]:0"',
      'watchdog.device.enabled: expected true or false, got "yes"',
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
