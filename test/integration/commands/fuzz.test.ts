import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer, CommandErrorCode } from '../../../src/commands/command.js';
import { Remediation } from '../../../src/commands/remediation.js';
import { MemoryActionStore } from '../../../src/commands/action-store.js';
import { systemClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { MqttLink } from '../../../src/mqtt/client.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { link, retained, waitUntil } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { configWith, RecordingExecutor, ROOT } from '../../unit/commands/harness.js';
import { fuzzCommand, type FuzzCommand } from './fuzz-payloads.js';

const RUNS = 10_000;
const BATCH = 500;
const SEED = Number(process.env.OUTPOST_FUZZ_SEED ?? 20_260_101);
const REPLIES = 'fuzz/replies';
const PROBE_REPLIES = 'fuzz/probe';
const ERROR_CODES: CommandErrorCode[] = [
  'bad_json',
  'too_large',
  'invalid',
  'unknown_action',
  'not_found',
];

/**
 * 10,000 fuzzed command messages through a real mosquitto into the real router, parser,
 * policy and audit log (MQTT 5: each carries its index as correlation data). The policy
 * allows everything, so only validation stands between a message and an executor: each
 * must get one error answer, and nothing may run, be stored or be published as an action.
 */
describe('fuzzed commands over a real broker', () => {
  let broker: MosquittoBroker;
  let dir: string;
  let agent: MqttLink;
  let client: MqttClient;
  let rem: Remediation;
  const exec = new RecordingExecutor();
  const store = new MemoryActionStore();
  const events: NewEvent[] = [];
  const answers = new Map<number, Answer[]>();

  beforeAll(async () => {
    broker = await startMosquitto({ listeners: ['anonymous'] });
    dir = await makeTempDir('fuzz');
    // A long keepalive: on a loaded machine a 5 s one can drop the link mid-storm, and a
    // clean session misses what is published while it is away.
    agent = link({ url: broker.url, protocol: '5', queueLimit: 50_000, keepaliveS: 120 });
    await agent.start();
    const config = configWith(dir, {
      policy: [{ action: '*', target: '*', decision: 'allow' }],
      // Every message must reach the parser: the rate limit has its own test (rate-limit.test.ts).
      remediation: { rate_limit: { user: { rate: 'unlimited' } } },
    });
    rem = await Remediation.create({
      config,
      root: ROOT,
      mqtt: agent,
      clock: systemClock,
      log: silentLogger(),
      record: (e) => events.push(e),
      executors: [exec],
      store,
    });
    await rem.start();
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    client.on('message', (topic, payload, packet) => {
      if (topic !== REPLIES) return;
      const i = packet.properties?.correlationData?.readUInt32BE(0) ?? -1;
      answers.set(i, [...(answers.get(i) ?? []), JSON.parse(payload.toString('utf8')) as Answer]);
    });
    await client.subscribeAsync(REPLIES, { qos: 1 });
    // The router's subscription reaches mosquitto on the agent's own connection: publish a
    // probe (answered on a topic of its own) until it is answered, so no fuzzed message goes
    // out before anyone listens.
    let probed = false;
    client.on('message', (topic) => (probed ||= topic === PROBE_REPLIES));
    await client.subscribeAsync(PROBE_REPLIES, { qos: 1 });
    const deadline = Date.now() + 30_000;
    while (!probed) {
      if (Date.now() > deadline) throw new Error('the router never answered a probe');
      await client.publishAsync('outpost/n1/cmd/ack', '{', {
        qos: 1,
        properties: { responseTopic: PROBE_REPLIES },
      });
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 60_000);

  afterAll(async () => {
    await rem?.stop();
    await client?.endAsync();
    await agent?.stop();
    await broker?.stop();
    if (dir) await removeTempDir(dir);
  });

  it(`answers ${RUNS} fuzzed payloads with an error each, runs nothing, stays up`, async () => {
    const samples: FuzzCommand[] = fc.sample(fuzzCommand, { numRuns: RUNS, seed: SEED });
    for (let from = 0; from < samples.length; from += BATCH) {
      const batch = samples.slice(from, from + BATCH);
      await Promise.all(
        batch.map((s, k) => {
          const corr = Buffer.alloc(4);
          corr.writeUInt32BE(from + k);
          return client.publishAsync(`outpost/n1/cmd/${s.action}`, s.payload, {
            qos: 1,
            properties: { responseTopic: REPLIES, correlationData: corr },
          });
        }),
      );
      // mosquitto queues at most 1000 QoS 1 messages per client: go on once this batch is answered.
      await waitUntil(
        () => answers.size >= from + batch.length,
        `answers to batch at ${from} (seed ${SEED})`,
        120_000,
      );
    }

    const problems: string[] = [];
    samples.forEach((s, i) => {
      const got = answers.get(i) ?? [];
      const a = got[0];
      const shown = `#${i} ${s.action} ${s.payload.toString('utf8').slice(0, 120)}`;
      if (got.length !== 1) problems.push(`${shown}: ${got.length} answers`);
      else if (a!.ok !== false || !ERROR_CODES.includes(a!.error!.code))
        problems.push(`${shown}: ${JSON.stringify(a)}`);
      else if (
        typeof a!.error!.message !== 'string' ||
        (a!.error!.field !== null && typeof a!.error!.field !== 'string')
      ) {
        problems.push(`${shown}: malformed error ${JSON.stringify(a!.error)}`);
      }
    });
    expect(problems.slice(0, 10), `seed ${SEED}`).toEqual([]);
    const codes = new Set([...answers.values()].map((a) => a[0]!.error?.code));
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(['bad_json', 'invalid', 'too_large', 'unknown_action']),
    );
    const fields = new Set([...answers.values()].map((a) => a[0]!.error?.field));
    expect([...fields]).toEqual(
      expect.arrayContaining(['target', 'id', 'dry_run', 'args', 'reason', 'requested_by', null]),
    );
    expect(exec.runs).toEqual([]);
    expect(store.list()).toEqual([]);
    expect(events).toEqual([]);
    const actions = await retained(broker.url, 'outpost/n1/actions/#');
    expect([...actions.keys()]).toEqual([]);

    // Still serving: a valid command after the storm runs.
    const corr = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    await client.publishAsync(
      'outpost/n1/cmd/restart_container',
      JSON.stringify({ target: 'local/web' }),
      {
        qos: 1,
        properties: { responseTopic: REPLIES, correlationData: corr },
      },
    );
    await waitUntil(() => answers.has(0xffffffff), 'answer after the fuzz');
    expect(answers.get(0xffffffff)![0]).toMatchObject({ ok: true, status: 'completed' });
    expect(exec.runs).toHaveLength(1);
  }, 600_000); // 10,000 audited commands: minutes on a loaded 2-core machine
});
