import { describe, expect, it } from 'vitest';
import type { Answer } from '../../../src/commands/command.js';
import { RemediationPublisher } from '../../../src/commands/publisher.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/core/logger.js';
import { topics } from '../../../src/core/topics.js';
import type { MqttPublisher, PublishOptions } from '../../../src/mqtt/types.js';
import { remediationSession, ROOT } from './harness.js';

const START = Date.parse('2026-01-01T00:00:00Z');
const limited = {
  policy: [{ action: 'ack', target: '*', decision: 'allow' }],
  remediation: {
    // The flood is anonymous, and what passes the limiter is run: the limit is the point.
    anonymous_commands: true,
    rate_limit: { client: { rate: '6/m', burst: 3 }, quiet: '5s' },
  },
};
const anon = { sender: 'anonymous', clientId: 'flood-1' };

describe('rate limits in the command router', () => {
  const r = remediationSession('rate-limit', START);

  it('refuses over the limit unread: rate_limited, QoS 0, audited once per burst', async () => {
    await r.start(limited);
    const answers: Answer[] = [];
    for (let i = 0; i < 50; i++)
      answers.push(await r.send('ack', { id: `f${i}`, target: 'local/web' }, anon));
    // Not even JSON: refused before anything reads it.
    answers.push(await r.send('ack', '{not json', anon));
    expect(answers.slice(0, 3).map((a) => [a.ok, a.id])).toEqual([
      [true, 'f0'],
      [true, 'f1'],
      [true, 'f2'],
    ]);
    const refused = answers.slice(3);
    expect(refused).toHaveLength(48);
    for (const a of refused) {
      expect(a).toMatchObject({
        ok: false,
        id: null,
        action: 'ack',
        retry_after_s: 10,
        error: { code: 'rate_limited', field: null },
      });
    }
    expect(refused[0]!.error!.message).toBe(
      'too many commands from anonymous (client flood-1) (at most 3 at once and 6/min); refused unread, try again in 10 s',
    );
    const sent = r.b!.wire.sent.filter((m) => m.topic === topics.commandResult(ROOT, 'ack'));
    expect(sent.map((m) => m.opts?.qos)).toEqual([...Array(3).fill(1), ...Array(48).fill(0)]);

    // Another login is answered meanwhile, from its own bucket.
    const ops = await r.send(
      'ack',
      { id: 'ops', target: 'local/web' },
      { sender: 'ops', clientId: 'x' },
    );
    expect(ops).toMatchObject({ ok: true, id: 'ops' });

    const lines = async () => (await r.audit()).filter((e) => e.kind === 'rate_limit');
    expect(await lines()).toEqual([
      expect.objectContaining({
        who: 'anonymous',
        origin: 'mqtt',
        action: 'ack',
        outcome: 'limited',
        message: 'refusing commands from anonymous (client flood-1): more than 3 at once and 6/min',
        detail: expect.objectContaining({ level: 'client', client_id: 'flood-1', total: 1 }),
      }),
    ]);
    r.clock.advance(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await lines()).slice(1)).toEqual([
      expect.objectContaining({
        who: 'anonymous',
        action: '*',
        outcome: 'ended',
        detail: expect.objectContaining({ client_id: 'flood-1', count: 47, total: 48 }),
      }),
    ]);
    // Every other line is about the 4 commands handled: received and decided, nothing per refusal.
    expect((await r.audit()).filter((e) => e.kind !== 'rate_limit')).toHaveLength(4 * 3);
  });

  it('answers a refusal on the MQTT 5 response topic with its correlation data', async () => {
    await r.start(limited);
    const extra = { ...anon, responseTopic: 'replies/me', correlationData: Buffer.from('c1') };
    for (let i = 0; i < 4; i++) await r.send('ack', { target: 'local/web' }, extra);
    const replies = r.b!.wire.sent.filter((m) => m.topic === 'replies/me');
    expect(replies).toHaveLength(4);
    expect(replies[3]!.opts).toMatchObject({
      qos: 0,
      properties: { correlationData: Buffer.from('c1') },
    });
    expect(JSON.parse(replies[3]!.payload)).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('closes the open burst with its count when remediation stops', async () => {
    await r.start(limited);
    for (let i = 0; i < 10; i++) await r.send('ack', { target: 'local/web' }, anon);
    await r.b!.rem.stop();
    r.b = undefined;
    const lines = (await r.audit()).filter((e) => e.kind === 'rate_limit');
    expect(lines.map((e) => [e.outcome, (e.detail as { total: number }).total])).toEqual([
      ['limited', 1],
      ['ended', 7],
    ]);
  });
});

describe('answers to refused commands while disconnected', () => {
  it('are dropped, not queued: the offline queue is for states and events', async () => {
    const sent: { topic: string; opts?: PublishOptions }[] = [];
    const offline: MqttPublisher = {
      connected: false,
      publish: (topic, _payload, opts) => {
        sent.push({ topic, opts });
        return Promise.resolve();
      },
      subscribe: () => () => undefined,
      onConnect: () => () => undefined,
    };
    const p = new RemediationPublisher(offline, ROOT, silentLogger());
    await p.refusal('outpost/n1/cmd/ack/result', '{}');
    await p.answer('outpost/n1/cmd/ack/result', '{}');
    expect(sent.map((m) => m.opts?.qos)).toEqual([1]);
  });
});

describe('remediation.rate_limit config', () => {
  it('defaults to 30 at once and 60/min per client, 120 and 240/min per login', () => {
    const { config } = parseConfig('node: { id: n1 }', { env: {} });
    expect(config.remediation.rate_limit).toEqual({
      client: { rate: 1, burst: 30 },
      user: { rate: 4, burst: 120 },
      quiet: 10_000,
    });
  });

  it('takes rates per s, m or h and "unlimited", and names what it refuses', () => {
    const { config } = parseConfig(
      'remediation: { rate_limit: { client: { rate: 10/h, burst: 2 }, user: { rate: unlimited } } }',
      { env: {} },
    );
    expect(config.remediation.rate_limit.client).toEqual({ rate: 10 / 3600, burst: 2 });
    expect(config.remediation.rate_limit.user).toEqual({ rate: 0, burst: 120 });
    let problems: string[] = [];
    try {
      parseConfig('remediation: { rate_limit: { client: { rate: lots, burst: 0 }, quiet: 5 } }', {
        env: {},
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual([
      expect.stringMatching(
        /^remediation\.rate_limit\.client\.rate: expected commands such as "60\/m" \(per s, m or h\), 0 or "unlimited"/,
      ),
      expect.stringMatching(
        /^remediation\.rate_limit\.client\.burst: expected a whole number of commands, 1 or more/,
      ),
      expect.stringMatching(/^remediation\.rate_limit\.quiet: expected a duration such as "10s"/),
    ]);
  });
});
