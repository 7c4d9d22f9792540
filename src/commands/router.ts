import { errorMessage } from '../core/errors.js';
import { UNVERIFIED } from '../core/identity.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { nodeRoot, topics, type TopicRoot } from '../core/topics.js';
import type { IncomingMessage, MessageSource, MqttPublisher } from '../mqtt/types.js';
import { commandError, type Answer } from './command.js';
import { parseCommand } from './payloads.js';
import type { RemediationPublisher } from './publisher.js';
import { rateLimitedAnswer } from './rate-limit/answer.js';
import type { CommandSender } from './rate-limit/burst.js';
import type { CommandRateLimiter } from './rate-limit/limiter.js';
import type { CommandService } from './service.js';

export interface CommandRouterOptions {
  /** Where answers go. */
  mqtt: MqttPublisher;
  /** Where commands come from (the embedded broker tells who sent each one). */
  source: MessageSource;
  root: TopicRoot;
  service: CommandService;
  publisher: RemediationPublisher;
  /** Answers never go under the agent's own topics or HA's discovery prefix. */
  discoveryPrefix: string;
  /** Per-client limits, checked before a payload is read; none: no limit. */
  limiter?: CommandRateLimiter;
  log: Logger;
}

/** Longest wait for answers still being worked out when the router stops. */
const STOP_WAIT_MS = 5_000;

/**
 * The MQTT side of commands: subscribes `<base>/<node>/cmd/+`, parses each message, hands
 * it to the command service and publishes the answer on `cmd/<action>/result` (for 3.1.1
 * clients) and, when the request carried one, on its MQTT 5 response topic with its
 * correlation data (MQTT 5 §4.10). A bad message never throws; it gets an error answer.
 * A client over its rate limit gets `rate_limited` before its payload is even read.
 */
export class CommandRouter implements Component {
  readonly name = 'command-router';
  readonly #opts: CommandRouterOptions;
  readonly #prefix: string;
  readonly #inFlight = new Set<Promise<void>>();
  #unsubscribe: (() => void) | undefined;

  constructor(opts: CommandRouterOptions) {
    this.#opts = opts;
    this.#prefix = `${nodeRoot(opts.root)}/cmd/`;
  }

  start(): Promise<void> {
    const { source, root } = this.#opts;
    this.#unsubscribe = source.subscribe(topics.commandFilter(root), (msg) => this.#track(msg), {
      qos: 1,
    });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), timeout]);
    clearTimeout(timer);
  }

  /** Handles one message and publishes its answer(s); resolves when they are sent. */
  async handle(msg: IncomingMessage): Promise<Answer> {
    const action = msg.topic.startsWith(this.#prefix) ? msg.topic.slice(this.#prefix.length) : '';
    const limited = this.#rateLimited(action, msg);
    const answer = limited ?? (await this.#answer(action, msg));
    const json = JSON.stringify(answer);
    const { publisher, root } = this.#opts;
    const send = (topic: string, corr?: Buffer) =>
      limited ? publisher.refusal(topic, json, corr) : publisher.answer(topic, json, corr);
    const sends = [send(topics.commandResultOf(root, action || '_'))];
    const responseTopic = msg.responseTopic;
    if (responseTopic !== undefined) {
      if (this.#responseTopicOk(responseTopic)) {
        sends.push(send(responseTopic, msg.correlationData));
      } else {
        this.#opts.log.warn(
          { action, responseTopic: responseTopic.slice(0, 200) },
          'response topic refused',
        );
      }
    }
    await Promise.all(sends);
    return answer;
  }

  /**
   * The `rate_limited` answer when the sender is over its limit, else undefined. It runs
   * before anything reads the payload, so a flood costs a bucket lookup per message.
   */
  #rateLimited(action: string, msg: IncomingMessage): Answer | undefined {
    const limiter = this.#opts.limiter;
    if (!limiter) return undefined;
    // The identity is the connection's; on an external broker nobody's is known.
    const sender: CommandSender =
      msg.sender === undefined
        ? { user: UNVERIFIED }
        : { user: msg.sender, clientId: msg.clientId };
    const verdict = limiter.check(sender, action);
    return verdict.ok ? undefined : rateLimitedAnswer(action, sender, verdict, limiter.settings);
  }

  #answer(action: string, msg: IncomingMessage): Promise<Answer> {
    const { service } = this.#opts;
    if (msg.retain) {
      // A retained command would run again on every reconnect of every subscriber.
      const err = commandError('retained', null, 'expected a command published without retain');
      return service.refuse(action, null, err, 'mqtt', msg.sender);
    }
    const parsed = parseCommand(action, msg.payload);
    if (!parsed.ok) return service.refuse(action, parsed.id, parsed.error, 'mqtt', msg.sender);
    return service.submit(parsed.command, 'mqtt', msg.sender);
  }

  /** MQTT 5 §3.3.2.3.5: a topic name, no wildcards; and never one of the agent's own. */
  #responseTopicOk(t: string): boolean {
    if (
      t.length === 0 ||
      t.length > 1024 ||
      t.includes('+') ||
      t.includes('#') ||
      t.includes('\u0000') ||
      t.startsWith('$')
    )
      return false;
    const { root, discoveryPrefix } = this.#opts;
    return !t.startsWith(`${root.base}/`) && !t.startsWith(`${discoveryPrefix}/`);
  }

  #track(msg: IncomingMessage): void {
    const p = this.handle(msg).then(
      () => undefined,
      (err: unknown) => {
        this.#opts.log.error({ topic: msg.topic, err: errorMessage(err) }, 'command not answered');
      },
    );
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }
}
