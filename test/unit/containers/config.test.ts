import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

const KEY = `SHA256:${'A'.repeat(43)}`;

describe('container configuration', () => {
  it('has defaults: no engine, nothing critical, the documented timings, http off', () => {
    const { config } = parseConfig('hosts: [{ id: local }]', { env: {} });
    expect(config.hosts[0]).toEqual({ id: 'local', critical: [], exclude: [] });
    expect(config.containers).toEqual({
      down_after: 300_000,
      cooldown: 1_800_000,
      stable_after: 120_000,
      removed_grace: 3_600_000,
      reconcile_every: 60_000,
      poll_every: 30_000,
      timeout: 15_000,
    });
    expect(config.http).toEqual({
      enabled: false,
      status_page: false,
      users: [],
      listen: { host: '127.0.0.1', port: 8099 },
    });
    expect(parseConfig('{}', { env: {} }).config.hosts[0]!.critical).toEqual([]);
  });

  it('reads engines, globs and timings', () => {
    const { config } = parseConfig(
      `
hosts:
  - { id: local, engine: { socket: /run/podman/podman.sock }, critical: [mosquitto, "z2m-*"], exclude: ["tmp-*"] }
  - id: nas
    ssh: { host: 192.0.2.16, user: ops, host_key: "${KEY}" }
    engine: { command: [sudo, /usr/local/bin/docker] }
    include: ["media-*"]
containers: { down_after: 2m, poll_every: 10s }
http: { enabled: true, listen: "0.0.0.0:9000" }
`,
      { env: {} },
    );
    expect(config.hosts[0]!.engine).toEqual({ socket: '/run/podman/podman.sock' });
    expect(config.hosts[0]!.critical).toEqual(['mosquitto', 'z2m-*']);
    expect(config.hosts[1]!.engine!.command).toEqual(['sudo', '/usr/local/bin/docker']);
    expect(config.hosts[1]!.include).toEqual(['media-*']);
    expect(config.containers.down_after).toBe(120_000);
    expect(config.containers.cooldown).toBe(1_800_000);
    expect(config.http.listen).toEqual({ host: '0.0.0.0', port: 9000 });
  });

  it('says which engine setting fits where, all at once', () => {
    expect(
      problems(`
hosts:
  - { id: a, engine: { socket: /x.sock, url: "tcp://h:2375" } }
  - { id: b, engine: { command: [docker] } }
  - { id: c, ssh: { host: h, user: u, host_key: "${KEY}" }, engine: { socket: /x.sock } }
  - { id: d, engine: { command: "sudo docker" } }
  - { id: e, engine: { url: "unix:///x.sock" }, critical: ["a b"] }
containers: { cooldown: soon }
`),
    ).toEqual([
      'hosts[0].engine.url: expected either socket or url, not both, got "tcp://h:2375"',
      'hosts[1].engine.command: expected no command on a host without ssh (use socket or url), got a list of 1',
      'hosts[2].engine.socket: expected no socket on an SSH host (use command), got "/x.sock"',
      'hosts[3].engine.command: expected the engine command as a list of words such as [sudo, /usr/local/bin/docker], got "sudo docker"',
      'hosts[4].engine.url: expected an engine API URL such as "tcp://127.0.0.1:2375" or "https://host:2376", got "unix:///x.sock"',
      'hosts[4].critical[0]: expected a container name or glob such as "media-*" (letters, digits, _ . - * ?), got "a b"',
      'containers.cooldown: expected a duration such as "30m" (units ms, s, m, h, d), got "soon"',
    ]);
  });

  it("takes podman's events file as an absolute path on a host without ssh only", () => {
    const { config } = parseConfig(
      'hosts: [{ id: local, engine: { socket: /run/podman/podman.sock, events_file: /run/libpod/events/events.log } }]',
      { env: {} },
    );
    expect(config.hosts[0]!.engine!.events_file).toBe('/run/libpod/events/events.log');
    expect(
      problems(`
hosts:
  - { id: a, engine: { events_file: run/libpod/events/events.log } }
  - { id: b, engine: { events_file: 42 } }
  - { id: c, ssh: { host: h, user: u, host_key: "${KEY}" }, engine: { events_file: /x.log } }
`),
    ).toEqual([
      'hosts[0].engine.events_file: expected the absolute path of podman\'s events file such as "/run/libpod/events/events.log", got "run/libpod/events/events.log"',
      'hosts[1].engine.events_file: expected the absolute path of podman\'s events file such as "/run/libpod/events/events.log", got 42',
      'hosts[2].engine.events_file: expected no events_file on an SSH host (a file on this machine), got "/x.log"',
    ]);
  });

  it('names unknown keys of the new sections', () => {
    expect(problems('containers: { downafter: 5m }\nhttp: { port: 1 }')).toEqual([
      'containers.downafter: unknown key; expected one of: down_after, cooldown, stable_after, removed_grace, reconcile_every, poll_every, timeout',
      'http.port: unknown key; expected one of: enabled, listen, status_page, users',
    ]);
  });
});
