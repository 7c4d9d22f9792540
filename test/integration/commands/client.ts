import mqtt, { type MqttClient } from 'mqtt';
import type { Answer } from '../../../src/commands/command.js';
import { topics, type TopicRoot } from '../../../src/core/topics.js';
import { waitUntil } from '../../helpers/mqtt.js';

/**
 * A command client from the outside, as a script or Node-RED would be: MQTT 5 with a
 * response topic and correlation data, or 3.1.1 reading the plain result topic.
 */
export class CommandClient {
  readonly client: MqttClient;
  readonly results: { topic: string; answer: Answer }[] = [];
  readonly retained = new Map<string, string>();
  readonly #replies = new Map<string, (a: Answer) => void>();
  readonly #root: TopicRoot;
  readonly #replyTopic: string;
  #n = 0;

  private constructor(client: MqttClient, root: TopicRoot) {
    this.client = client;
    this.#root = root;
    this.#replyTopic = `replies/${Math.random().toString(16).slice(2)}`;
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      if (packet.retain || topic.includes('/actions/') || topic.includes('/remediation/')) {
        this.retained.set(topic, text);
        return;
      }
      if (topic === this.#replyTopic) {
        const key = packet.properties?.correlationData?.toString('hex') ?? '';
        this.#replies.get(key)?.(JSON.parse(text) as Answer);
        this.#replies.delete(key);
        return;
      }
      if (topic.endsWith('/result'))
        this.results.push({ topic, answer: JSON.parse(text) as Answer });
    });
  }

  static async connect(
    url: string,
    root: TopicRoot,
    protocolVersion: 4 | 5 = 5,
    login: { username?: string; password?: string } = {},
  ): Promise<CommandClient> {
    const client = await mqtt.connectAsync(url, {
      ...login,
      protocolVersion,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const c = new CommandClient(client, root);
    await client.subscribeAsync(
      [
        `${root.base}/${root.node}/cmd/+/result`,
        `${root.base}/${root.node}/actions/+`,
        topics.pendingActions(root),
        c.#replyTopic,
      ],
      { qos: 1 },
    );
    return c;
  }

  /** MQTT 5 request / response: resolves with the answer carrying our correlation data. */
  request(action: string, payload: unknown, timeoutMs = 60_000): Promise<Answer> {
    const corr = Buffer.from(`req-${++this.#n}`);
    const answer = new Promise<Answer>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no answer to ${action} ${JSON.stringify(payload)}`)),
        timeoutMs,
      );
      this.#replies.set(corr.toString('hex'), (a) => {
        clearTimeout(t);
        resolve(a);
      });
    });
    void this.client.publishAsync(
      `${this.#root.base}/${this.#root.node}/cmd/${action}`,
      JSON.stringify(payload),
      {
        qos: 1,
        properties: { responseTopic: this.#replyTopic, correlationData: corr },
      },
    );
    return answer;
  }

  /** 3.1.1 style: publish, then the next answer on the result topic with this id. */
  async send(
    action: string,
    payload: { id: string } & Record<string, unknown>,
    count = 1,
  ): Promise<Answer[]> {
    const topic = `${this.#root.base}/${this.#root.node}/cmd/${action}`;
    const mine = () => this.results.filter((r) => r.answer.id === payload.id).map((r) => r.answer);
    await this.client.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
    await waitUntil(() => mine().length >= count, `${count} answer(s) to ${payload.id}`, 60_000);
    return mine();
  }

  retainedJson<T = Record<string, unknown>>(topic: string): T | undefined {
    const p = this.retained.get(topic);
    return p ? (JSON.parse(p) as T) : undefined;
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}
