import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from '../../../src/commands/command.js';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { eventually } from '../../helpers/eventually.js';
import { Collector, observer } from '../../helpers/mqtt.js';
import { getFreePort } from '../../helpers/ports.js';
import { readAudit } from '../../helpers/audit-file.js';

const ACK = 'outpost/edge/cmd/ack';
const FLOOD = 2_000;

/**
 * Floods of commands against the agent as it ships, on its embedded broker: one client's
 * flood is cut to its bucket and refused unread (`rate_limited`) while another login's
 * command is answered; the audit gets a line per burst, with the count, not one per
 * message; and a client cycling client ids meets its login's bucket. Rates of 1/h keep
 * the buckets from refilling during the test, so every count is exact.
 */
describe('rate limits on commands (embedded broker, agent process)', () => {
  let agent: AgentProcess;
  let url: string;
  const clients: MqttClient[] = [];

  const connect = async (opts: Parameters<typeof observer>[1]) => {
    const c = await observer(url, opts);
    clients.push(c);
    return c;
  };
  const audit = () => readAudit(join(agent.dir, 'data'));
  const answersOn = async () => {
    const col = await new Collector(await connect({})).subscribe(`${ACK}/result`);
    return () => col.messages.map((m) => JSON.parse(m.payload) as Answer);
  };
  const send = (c: MqttClient, id: string) =>
    c.publishAsync(ACK, JSON.stringify({ id, target: 'local/web' }), { qos: 1 });

  beforeAll(async () => {
    const port = await getFreePort();
    url = `mqtt://127.0.0.1:${port}`;
    agent = await spawnAgent(
      (dir) => `node: { id: edge }
data_dir: ${dir}/data
broker:
  listen: "127.0.0.1:${port}"
  users:
    - { username: ops, password: ops-secret }
    - { username: script, password: script-secret }
hosts:
  - id: local
policy:
  - { action: ack, target: "*", decision: allow }
remediation:
  rate_limit:
    client: { rate: 1/h, burst: 20 }
    user: { rate: 1/h, burst: 100 }
    quiet: 1s
`,
    );
    await agent.running(20_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync()));
    await agent?.cleanup();
  });

  it(`cuts a flood of ${FLOOD} commands to its burst, audits it once with the count, and answers another login meanwhile`, async () => {
    const answers = await answersOn();
    const flood = await connect({ clientId: 'flood-1' });
    const ops = await connect({ clientId: 'ops-1', username: 'ops', password: 'ops-secret' });
    const refused = () =>
      answers().filter((a) => a.error?.code === 'rate_limited' && /flood-1/.test(a.error.message));
    const handled = () => answers().filter((a) => a.id?.startsWith('f-'));
    const t0 = Date.now();
    const sent = Promise.all(Array.from({ length: FLOOD }, (_, i) => send(flood, `f-${i}`)));
    // Once the flood is being refused, another login's command still gets through.
    await eventually(() => expect(refused().length).toBeGreaterThan(0));
    await send(ops, 'ops-1');
    await eventually(() => expect(answers().find((a) => a.id === 'ops-1')).toBeDefined());
    expect(answers().find((a) => a.id === 'ops-1')).toMatchObject({ ok: true, action: 'ack' });
    await sent;

    await eventually(() => expect(handled().length + refused().length).toBe(FLOOD));
    const ms = Date.now() - t0;
    expect(handled()).toHaveLength(20);
    // The 20 inside the burst reach the policy, which refuses anonymous logins.
    expect(handled().every((a) => a.error?.code === 'not_allowed')).toBe(true);
    expect(refused()).toHaveLength(FLOOD - 20);
    expect(refused()[0]).toMatchObject({ ok: false, id: null, action: 'ack' });
    expect(refused()[0]!.retry_after_s).toBeGreaterThan(60);

    // One line when the refusals began, one with the total once the client was quiet.
    const lines = async () =>
      (await audit()).filter((e) => e.kind === 'rate_limit' && e.detail?.client_id === 'flood-1');
    await eventually(async () => expect((await lines()).at(-1)?.outcome).toBe('ended'));
    const burst = await lines();
    expect(burst[0]).toMatchObject({
      who: 'anonymous',
      origin: 'mqtt',
      outcome: 'limited',
      detail: { level: 'client', client_id: 'flood-1' },
    });
    expect(burst.at(-1)!.detail).toMatchObject({ total: FLOOD - 20 });
    const counted = burst.reduce((n, e) => n + (e.detail!.count as number), 0);
    expect(counted).toBe(FLOOD - 20);
    // A "still limited" line a minute at most: a flood of any length stays a few lines.
    expect(burst.length).toBeLessThanOrEqual(2 + Math.floor(ms / 60_000));
    // The rest of the audit is the 21 commands handled: received and denied for the 20
    // anonymous ones; received, decided and applied for ops'.
    expect((await audit()).filter((e) => e.kind !== 'rate_limit')).toHaveLength(20 * 2 + 3);
  }, 120_000);

  it("holds a client that cycles client ids to its login's bucket", async () => {
    const answers = await answersOn();
    const conns = await Promise.all(
      Array.from({ length: 10 }, (_, c) =>
        connect({ clientId: `script-${c}`, username: 'script', password: 'script-secret' }),
      ),
    );
    // 15 each stays within every client's own burst of 20; 150 together pass the login's 100.
    await Promise.all(
      conns.flatMap((c, k) => Array.from({ length: 15 }, (_, i) => send(c, `s-${k}-${i}`))),
    );
    const handled = () => answers().filter((a) => a.id?.startsWith('s-'));
    const refused = () =>
      answers().filter(
        (a) => a.error?.code === 'rate_limited' && /from script \(all its/.test(a.error.message),
      );
    await eventually(() => expect(handled().length + refused().length).toBe(150));
    expect(handled()).toHaveLength(100);
    expect(refused()).toHaveLength(50);
    await eventually(async () =>
      expect(
        (await audit())
          .filter((e) => e.kind === 'rate_limit' && e.who === 'script')
          .map((e) => [e.outcome, e.detail!.level, e.detail!.total]),
      ).toEqual([
        ['limited', 'user', 1],
        ['ended', 'user', 50],
      ]),
    );
  }, 120_000);
});
