import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, { env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
}

const HA = 'home_assistant: { url: "ws://ha.lan:8123/api/websocket" }';

describe('the home_assistant section (issue 18)', () => {
  it('takes its defaults, and the token from the environment as a secret for the log filter', () => {
    const { config, secrets } = parseConfig(HA, { env: { HA_TOKEN: 'abcdef-token' } });
    expect(config.home_assistant).toMatchObject({
      token_env: 'HA_TOKEN',
      timeout: 10_000,
      dead_after: 300_000,
      notify: [],
      offline: { after: 900_000, max_listed: 20 },
    });
    expect(secrets).toContain('abcdef-token');
  });

  it('refuses a missing token variable, naming the field and the variable', () => {
    expect(problems(HA)).toEqual([
      'home_assistant.token_env: environment variable HA_TOKEN is not set: expected a long-lived access token of Home Assistant there',
    ]);
  });

  it('names each bad field with what it expected', () => {
    const out = problems(
      `home_assistant:
  url: "http://ha.lan:8123"
  notify: [{ service: telegram_ops, severity: loud }]
  container: homeassistant
`,
      { HA_TOKEN: 'x' },
    );
    expect(out).toEqual([
      expect.stringMatching(/^home_assistant\.url: expected the websocket API URL/),
      expect.stringMatching(
        /^home_assistant\.container: expected the Home Assistant container as "<host>\/<name>"/,
      ),
      expect.stringMatching(
        /^home_assistant\.notify\[0\]\.service: expected a notify service such as "notify\.telegram_ops"/,
      ),
      expect.stringMatching(
        /^home_assistant\.notify\[0\]\.severity: expected one of debug, info, warning, error, critical/,
      ),
    ]);
  });

  it('takes Telegram and Home Assistant users as approvers, and no broker login may pose as one', () => {
    const ok = parseConfig(
      'broker: { users: [{ username: ops, password: pw }] }\n' +
        'remediation: { approvers: [ops, "telegram:4242", "ha:9f0c1d"] }',
      { env: {} },
    );
    expect(ok.config.remediation.approvers).toEqual(['ops', 'telegram:4242', 'ha:9f0c1d']);
    expect(problems('remediation: { approvers: ["telegram:alice"] }')).toEqual([
      expect.stringMatching(
        /^remediation\.approvers\[0\]: expected "telegram:" and a numeric Telegram user id/,
      ),
    ]);
    expect(
      problems('broker: { users: [{ username: "telegram:4242", password: secret123 }] }'),
    ).toEqual([
      expect.stringMatching(
        /^broker\.users\[0\]\.username: expected a user name not starting with telegram:, ha: or web:/,
      ),
    ]);
  });
});
