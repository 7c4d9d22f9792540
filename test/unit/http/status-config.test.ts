import { describe, expect, it } from 'vitest';

import { ConfigError, parseConfig } from '../../../src/config/load.js';

const TOKEN = 'alice-token-0123456789';

/** The problems a config's http section raises, as the user reads them. */
function problems(http: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(JSON.stringify({ node: { id: 'n' }, http }), { env });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('http.status_page and http.users', () => {
  it('is off by default, with no users', () => {
    const { config } = parseConfig('node: { id: n }', { env: {} });
    expect(config.http).toMatchObject({ status_page: false, users: [] });
  });

  it('is open on loopback without users', () => {
    expect(problems({ enabled: true, status_page: true })).toEqual([]);
    expect(problems({ enabled: true, status_page: true, listen: '[::1]:8099' })).toEqual([]);
  });

  it('refuses a non-loopback listener without a user, naming the field and the address', () => {
    expect(problems({ enabled: true, status_page: true, listen: '0.0.0.0:8099' })).toEqual([
      'http.users: expected at least one user with a token: http.listen (0.0.0.0) is not loopback, and the status page would be open to the network, got a list of 0',
    ]);
    const withUser = { name: 'alice', token: '${TOKEN_ALICE}' };
    expect(
      problems(
        { enabled: true, status_page: true, listen: '0.0.0.0:8099', users: [withUser] },
        { TOKEN_ALICE: TOKEN },
      ),
    ).toEqual([]);
  });

  it('needs the listener', () => {
    expect(problems({ status_page: true })).toEqual([
      'http.enabled: expected true: http.status_page is served on the http listener, got false',
    ]);
  });

  it('never prints a token in an error, even a short one', () => {
    const found = problems({
      enabled: true,
      status_page: true,
      users: [
        { name: 'alice', token: 'short-secret' },
        { name: 'bob', token: TOKEN },
        { name: 'carol', token: TOKEN },
      ],
    });
    expect(found).toEqual([
      'http.users[0].token: expected a token of 16 to 256 characters (use ${VAR} to read it), got "(hidden, 12 characters)"',
      'http.users[2].token: expected a token of its own: user carol has the token of a user listed before, got "(hidden)"',
    ]);
    expect(found.join('\n')).not.toContain('short-secret');
    expect(found.join('\n')).not.toContain(TOKEN);
  });

  it('refuses a user name that could not be an identity, and a name listed twice', () => {
    expect(
      problems({
        users: [
          { name: 'web:alice', token: TOKEN },
          { name: 'bob', token: `${TOKEN}-1` },
          { name: 'bob', token: `${TOKEN}-2` },
        ],
      }),
    ).toEqual([
      'http.users[0].name: expected a user name of letters, digits, "_", "." or "-" (at most 32), got "web:alice"',
      'http.users[2].name: expected a unique user name: bob is listed twice, got "bob"',
    ]);
  });

  describe('web: approvers', () => {
    const alice = { name: 'alice', token: TOKEN };
    const page = { enabled: true, status_page: true, users: [alice] };
    const approvers = (http: Record<string, unknown>, names: string[]): string[] => {
      try {
        const broker = { users: [{ username: 'ops', password: 'pw' }] };
        const text = JSON.stringify({
          node: { id: 'n' },
          broker,
          http,
          remediation: { approvers: names },
        });
        parseConfig(text, { env: {} });
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.map((p) => `${p.path}: ${p.message}`);
      }
    };

    it('takes a web: approver that http.users defines, beside other channels', () => {
      expect(approvers(page, ['ops', 'web:alice', 'telegram:42', 'ha:9f0c'])).toEqual([]);
    });

    it('refuses one that no user defines, naming the field, the value and the users', () => {
      expect(approvers(page, ['ops', 'web:mallory'])).toEqual([
        'remediation.approvers[1]: expected web:<name> of a user in http.users (alice): no user mallory could approve from the status page, got "web:mallory"',
      ]);
      expect(approvers({}, ['web:alice'])).toEqual([
        'remediation.approvers[0]: expected web:<name> of a user in http.users (none): no user alice could approve from the status page, got "web:alice"',
      ]);
    });

    it('refuses one when the status page is off: nobody could approve through it', () => {
      expect(approvers({ ...page, status_page: false }, ['web:alice'])).toEqual([
        'remediation.approvers[0]: expected http.enabled and http.status_page true: web:alice approves from the status page, which is off, got "web:alice"',
      ]);
    });

    it('refuses a broker login that would pose as a status page user', () => {
      const broker = { users: [{ username: 'web:alice', password: 'secret123' }] };
      const text = JSON.stringify({ node: { id: 'n' }, broker });
      expect(() => parseConfig(text, { env: {} })).toThrow(
        /broker\.users\[0\]\.username: expected a user name not starting with telegram:, ha: or web:/,
      );
    });
  });
});
