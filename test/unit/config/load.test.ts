import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostScope, serviceScope } from '../../../discovery/ids.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('config loading', () => {
  it('accepts the shipped config.yaml as-is', () => {
    const text = readFileSync(new URL('../../../config.yaml', import.meta.url), 'utf8');
    const { config } = parseConfig(text, { env: {}, file: '/etc/outpost/config.yaml' });
    expect(config.broker.mode).toBe('embedded');
    expect(config.broker.listen).toEqual({ host: '0.0.0.0', port: 1883 });
    expect(config.data_dir).toBe('/etc/outpost/data');
    expect(config.hosts.map((h) => h.id)).toEqual(['local']);
    expect(Object.isFrozen(config.broker)).toBe(true);
  });

  it('reports every problem at once with path, value and expectation', () => {
    const out = problems(`
broker: { mode: embeded }
hosts:
  - id: local
  - id: nas
    ssh: { host: 127.0.0.1, port: "22x", user: ops, host_key: "SHA256:${'A'.repeat(43)}" }
mqtt: { base_topic: "a/b" }
`);
    expect(out).toEqual([
      'broker.mode: expected "embedded" or "external", got "embeded"',
      'mqtt.base_topic: expected a base topic: a topic level without /, +, # or spaces, got "a/b"',
      'hosts[1].ssh.port: expected an integer 1-65535, got "22x"',
    ]);
  });

  it('names unknown keys and the keys that would be accepted', () => {
    expect(problems('mqtt: { basetopic: x }')).toEqual([
      'mqtt.basetopic: unknown key; expected one of: base_topic, discovery_prefix, client_id, keepalive, reconnect_min, reconnect_max, queue_limit',
    ]);
  });

  it('substitutes ${VAR} and ${VAR:-default} in values, never in structure', () => {
    const { config } = parseConfig(
      'broker: { mode: external, url: "${URL}", password: "${PW}", username: "${U:-outpost}" }',
      { env: { URL: 'mqtts://b.example:8883', PW: 'p: {x}' } },
    );
    expect(config.broker.url).toBe('mqtts://b.example:8883');
    expect(config.broker.password).toBe('p: {x}');
    expect(config.broker.username).toBe('outpost');
  });

  it('reports a missing environment variable at its path', () => {
    expect(problems('broker: { mode: external, url: "${NOPE}" }')).toContain(
      'broker.url: environment variable NOPE is not set (write ${NOPE:-default} for a fallback)',
    );
  });

  it('requires a url for an external broker and refuses one for the embedded', () => {
    expect(problems('broker: { mode: external }')).toEqual([
      'broker.url: expected a broker URL when mode is "external", got nothing',
    ]);
    expect(problems('broker: { url: "mqtt://x:1883" }')).toEqual([
      'broker.url: expected no url when mode is "embedded" (set mode: external), got "mqtt://x:1883"',
    ]);
  });

  it("bounds each embedded broker client's queue in bytes; drain_timeout 0s is no timer", () => {
    const { config } = parseConfig('broker: { drain_timeout: 0s }', { env: {} });
    expect(config.broker.client_queue).toBe(1024 * 1024);
    expect(config.broker.drain_timeout).toBe(0);
    expect(problems('broker: { client_queue: 100b }')).toEqual([
      'broker.client_queue: expected a size of 1KiB or more, got 100',
    ]);
    expect(problems('broker: { client_queue: lots }')).toEqual([
      'broker.client_queue: expected a size such as "1MiB" or a number of bytes, got "lots"',
    ]);
  });

  it('refuses an SSH host without a pinned host key', () => {
    expect(problems('hosts: [{ id: nas, ssh: { host: h, user: u } }]')).toEqual([
      'hosts[0].ssh.host_key: expected host_key or known_hosts: an SSH host key is always pinned, got nothing',
    ]);
  });

  it('refuses a plain approver no broker login could be: not in broker.users, or on an external broker', () => {
    const users =
      'broker: { users: [{ username: alice, password: pw }, { username: ha, password: pw }] }\n';
    expect(problems(`${users}remediation: { approvers: [alice, "telegram:42"] }`)).toEqual([]);
    expect(problems(`${users}remediation: { approvers: [alice, alcie] }`)).toEqual([
      'remediation.approvers[1]: expected a user name in broker.users (alice, ha): alcie could never log in to approve, got "alcie"',
    ]);
    expect(problems('remediation: { approvers: [ops] }')).toEqual([
      'remediation.approvers[0]: expected a user name in broker.users (none): ops could never log in to approve, got "ops"',
    ]);
    expect(
      problems(
        'broker: { mode: external, url: "mqtt://127.0.0.1:1883" }\n' +
          'remediation: { approvers: [ops, "ha:9f0c"] }',
      ),
    ).toEqual([
      'remediation.approvers[0]: expected "ha:<user id>", "telegram:<user id>" or "web:<name>" on an external broker (broker.mode external): the agent cannot see who published there, so ops could never approve over MQTT, got "ops"',
    ]);
  });

  it('refuses a rule held for approval when nobody may approve, and anonymous as an approver', () => {
    const held =
      'policy:\n  - { action: restart_container, decision: approve }\n' +
      '  - { action: restart_container, target: "nas/*", decision: allow, self_heal: ask }';
    expect(problems(held)).toEqual([
      'policy[0].decision: expected remediation.approvers to name who may approve: with none, nothing held for approval could ever run, got "approve"',
      'policy[1].self_heal: expected remediation.approvers to name who may approve: with none, nothing held for approval could ever run, got "ask"',
    ]);
    const alice = 'broker: { users: [{ username: alice, password: pw }] }\n';
    expect(problems(`${held}\n${alice}remediation: { approvers: [alice] }`)).toEqual([]);
    expect(problems(`${alice}remediation: { approvers: [alice, anonymous] }`)).toEqual([
      'remediation.approvers[1]: expected a named user: anonymous can never approve, got "anonymous"',
    ]);
    // Choosing a pending action is for approvers, as deciding it is: no rule governs it.
    expect(problems('policy: [{ action: select, decision: allow }]')).toEqual([
      'policy[0].action: expected an action the policy decides: select is allowed for every pending action, got "select"',
    ]);
  });

  it('reports duplicate host ids and YAML syntax errors', () => {
    expect(problems('hosts: [{ id: a }, { id: a }]')).toEqual([
      'hosts[1].id: expected a unique host id, got "a"',
    ]);
    expect(problems('broker: {')[0]).toMatch(/^line \d+, column \d+: YAML syntax/);
  });

  it("refuses a host id that would share a watched service's device identifier", () => {
    // outpost_<node>_<host> for a host, outpost_<node>_service_<id> for Home Assistant's device.
    expect(hostScope('n', 'service_home_assistant')).toBe(serviceScope('n', 'home_assistant'));
    expect(problems('hosts: [{ id: local }, { id: service_home_assistant }]')).toEqual([
      'hosts[1].id: expected a host id not starting with "service_": the device outpost_<node>_service_home_assistant is kept for a service the agent watches (Home Assistant, Zigbee2MQTT), got "service_home_assistant"',
    ]);
    expect(problems('hosts: [{ id: services }, { id: my_service_x }, { id: Service_x }]')).toEqual(
      [],
    );
  });

  it('parses durations, listen addresses and LOG_LEVEL', () => {
    const { config } = parseConfig('mqtt: { keepalive: 1m30s }\nbroker: { listen: "[::1]:2883" }', {
      env: { LOG_LEVEL: 'DEBUG' },
    });
    expect(config.mqtt.keepalive).toBe(90_000);
    expect(config.broker.listen).toEqual({ host: '::1', port: 2883 });
    expect(config.log.level).toBe('debug');
    expect(problems('mqtt: { keepalive: 10 }')).toEqual([
      'mqtt.keepalive: expected a duration such as "30s" (units ms, s, m, h, d), got 10',
    ]);
  });

  it('collects secrets for the log filter', () => {
    const loaded = parseConfig(
      'broker: { users: [{ username: a, password: hunter22 }] }\nhosts: [{ id: n, ssh: { host: h, user: u, passphrase: pass-phrase, known_hosts: /k } }]',
      { env: {} },
    );
    expect(loaded.secrets).toEqual(['hunter22', 'pass-phrase']);
  });

  it('keeps the silence switch’s duration within what the silence command takes', () => {
    expect(parseConfig('node: { id: n }', { env: {} }).config.remediation.silence_for).toBe(
      3_600_000,
    );
    expect(problems('remediation: { silence_for: 500ms }')).toEqual([
      'remediation.silence_for: expected at least 1s, got "500ms"',
    ]);
    expect(problems('remediation: { silence_for: 31d }')).toEqual([
      'remediation.silence_for: expected at most 30d, got "31d"',
    ]);
  });
});
