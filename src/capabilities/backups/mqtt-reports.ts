import { errorMessage } from '../../core/errors.js';
import { ANONYMOUS } from '../../core/identity.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import { nodeRoot, topics, type TopicRoot } from '../../core/topics.js';
import type { IncomingMessage, MessageSource, MqttPublisher } from '../../mqtt/types.js';
import { reportSchema, type ReportIntake, type ReportRefusal } from './reports.js';

const MAX_REPORT_BYTES = 16 * 1024;

/** The answer to a report, in the shape of a command answer (`ok`, `error`). */
type ReportAnswer =
  | { ok: true; job: string; status: string }
  | {
      ok: false;
      job: string;
      error: ReportRefusal | { code: string; field: string | null; message: string };
    };

/**
 * Reports over MQTT (issue #17): `<base>/<node>/backups/<job>/report` with a JSON payload.
 * Each gets an answer on `…/report/result` (and the MQTT 5 response topic when the report
 * named one outside the agent's topics), as commands do: a malformed report is refused
 * there with the field and what was expected, and changes nothing.
 */
export class MqttReports implements Component {
  readonly name = 'backups-mqtt-reports';
  readonly #source: MessageSource;
  readonly #mqtt: MqttPublisher;
  readonly #root: TopicRoot;
  readonly #intake: ReportIntake;
  readonly #log: Logger;
  readonly #anonymous: boolean;
  #unsubscribe: (() => void) | undefined;

  constructor(opts: {
    source: MessageSource;
    mqtt: MqttPublisher;
    root: TopicRoot;
    intake: ReportIntake;
    log: Logger;
    /** `remediation.anonymous_commands`: whether an anonymous login may report, as it may command. */
    anonymous: boolean;
  }) {
    this.#anonymous = opts.anonymous;
    this.#source = opts.source;
    this.#mqtt = opts.mqtt;
    this.#root = opts.root;
    this.#intake = opts.intake;
    this.#log = opts.log;
  }

  start(): Promise<void> {
    const filter = topics.backupReportFilter(this.#root);
    this.#unsubscribe = this.#source.subscribe(filter, (m) => this.#handle(m), { qos: 1 });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    return Promise.resolve();
  }

  #handle(msg: IncomingMessage): void {
    const prefix = `${nodeRoot(this.#root)}/backups/`;
    const job = msg.topic.slice(prefix.length, msg.topic.length - '/report'.length);
    const answer = this.#answer(job, msg);
    if (!answer.ok) {
      this.#log.warn({ job, sender: msg.sender, error: answer.error }, 'backup report refused');
    }
    const json = JSON.stringify(answer);
    const send = (topic: string, correlationData?: Buffer) =>
      this.#mqtt
        .publish(topic, json, {
          qos: 1,
          ...(correlationData ? { properties: { correlationData } } : {}),
        })
        .catch((err: unknown) =>
          this.#log.warn({ topic, err: errorMessage(err) }, 'backup report answer not sent'),
        );
    void send(topics.backupReportResult(this.#root, job));
    const rt = msg.responseTopic;
    if (
      rt !== undefined &&
      rt.length > 0 &&
      !/[+#\0]/.test(rt) &&
      !rt.startsWith(`${this.#root.base}/`)
    ) {
      void send(rt, msg.correlationData);
    }
  }

  #answer(job: string, msg: IncomingMessage): ReportAnswer {
    const refuse = (code: string, field: string | null, message: string): ReportAnswer => ({
      ok: false,
      job,
      error: { code, field, message },
    });
    // A report moves a job's last success: on a LAN where anyone may log in anonymously,
    // that would let anyone hide a failing backup. The same rule as for commands.
    if (msg.sender === ANONYMOUS && !this.#anonymous) {
      return refuse(
        'not_allowed',
        null,
        'anonymous clients may not report backups: log in with a user from broker.users (or set remediation.anonymous_commands: true)',
      );
    }
    if (msg.retain) return refuse('retained', null, 'expected a report published without retain');
    if (msg.payload.length > MAX_REPORT_BYTES) {
      return refuse('too_large', null, `expected a report of at most ${MAX_REPORT_BYTES} bytes`);
    }
    let body: unknown;
    try {
      body = JSON.parse(msg.payload.toString('utf8'));
    } catch (err) {
      return refuse('bad_json', null, `expected a JSON object: ${errorMessage(err)}`);
    }
    const parsed = reportSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : null;
      const got =
        field === null ? '' : `, got ${JSON.stringify(valueAt(body, issue.path)).slice(0, 100)}`;
      return refuse('invalid', field, `${issue.message}${got}`);
    }
    const refusal = this.#intake.apply(job, parsed.data, 'mqtt', msg.sender);
    return refusal
      ? { ok: false, job, error: refusal }
      : { ok: true, job, status: parsed.data.status };
  }
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const k of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[k];
  return v ?? null;
}
