import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { topics, type TopicRoot } from '../core/topics.js';
import type { MqttPublisher } from '../mqtt/types.js';
import { actionPayload, pendingSummary, type ActionRecord } from './actions.js';

/**
 * Everything remediation publishes, through the topic contract: each action retained on
 * actions/<id>, the pending summary, each host's maintenance state, and answers.
 * Publishing never throws into the caller: a failure is logged (the link queues while
 * offline, so that is a full queue or a stopped link).
 */
export class RemediationPublisher {
  readonly #mqtt: MqttPublisher;
  readonly #root: TopicRoot;
  readonly #log: Logger;
  #lastSummary: string | undefined;

  readonly #pendingChanged: (() => void) | undefined;
  readonly #selected: (() => string | undefined) | undefined;

  /** `selected`: the id chosen in the pending-actions select, shown while it is pending. */
  constructor(
    mqtt: MqttPublisher,
    root: TopicRoot,
    log: Logger,
    pendingChanged?: () => void,
    selected?: () => string | undefined,
  ) {
    this.#mqtt = mqtt;
    this.#root = root;
    this.#log = log;
    this.#pendingChanged = pendingChanged;
    this.#selected = selected;
  }

  action(rec: ActionRecord): void {
    this.#send(topics.action(this.#root, rec.id), JSON.stringify(actionPayload(rec)), true);
  }

  /** Removes a pruned action's retained message (an empty retained payload, MQTT §3.3.1.3). */
  clearAction(id: string): void {
    this.#send(topics.action(this.#root, id), '', true);
  }

  /** The pending summary, published only when it changed. */
  pending(records: Iterable<ActionRecord>): void {
    const json = JSON.stringify(pendingSummary(records, this.#selected?.()));
    if (json === this.#lastSummary) return;
    this.#lastSummary = json;
    this.#send(topics.pendingActions(this.#root), json, true);
    this.#pendingChanged?.();
  }

  maintenance(host: string, on: Suppression | undefined): void {
    const payload = {
      maintenance: on !== undefined,
      until: on ? isoOrNull(on.until) : null,
      by: on?.by ?? null,
    };
    this.#send(topics.hostMaintenance(this.#root, host), JSON.stringify(payload), true);
  }

  /** The host's own silence and its containers', as the HA switch and its attributes read them. */
  silence(
    host: string,
    own: Suppression | undefined,
    containers: ReadonlyMap<string, Suppression>,
  ): void {
    const payload = {
      silenced: own !== undefined,
      until: own ? isoOrNull(own.until) : null,
      by: own?.by ?? null,
      containers: Object.fromEntries(
        [...containers].map(([name, e]) => [name, { until: isoOrNull(e.until), by: e.by }]),
      ),
    };
    this.#send(topics.hostSilence(this.#root, host), JSON.stringify(payload), true);
  }

  /** An answer to a command: QoS 1, not retained, MQTT 5 properties when given. */
  answer(topic: string, payload: string, correlationData?: Buffer): Promise<void> {
    return this.#answer(topic, payload, correlationData, 1);
  }

  /**
   * The answer to a command refused for its rate: QoS 0, and only while connected. A flood
   * is answered message for message, so these must cost no PUBACK and never take the
   * bounded offline queue's room from states and events.
   */
  refusal(topic: string, payload: string, correlationData?: Buffer): Promise<void> {
    if (!this.#mqtt.connected) return Promise.resolve();
    return this.#answer(topic, payload, correlationData, 0);
  }

  #answer(topic: string, payload: string, correlationData: Buffer | undefined, qos: 0 | 1) {
    const properties = correlationData
      ? { correlationData, contentType: 'application/json' }
      : undefined;
    return this.#mqtt
      .publish(topic, payload, { qos, retain: false, ...(properties ? { properties } : {}) })
      .catch((err: unknown) => {
        this.#log.warn({ topic, err: errorMessage(err) }, 'command answer not published');
      });
  }

  #send(topic: string, payload: string, retain: boolean): void {
    this.#mqtt.publish(topic, payload, { qos: 1, retain }).catch((err: unknown) => {
      this.#log.warn({ topic, err: errorMessage(err) }, 'remediation state not published');
    });
  }
}

/** A maintenance or a silence: until when (null: until switched off) and who asked. */
interface Suppression {
  readonly until: number | null;
  readonly by: string | null;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
