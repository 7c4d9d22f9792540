/** What the rest of the agent needs from an MQTT connection; implemented by MqttLink. */
export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  /** MQTT 5 properties (user properties, response topic, correlation data); dropped on 3.1.1. */
  properties?: {
    userProperties?: Record<string, string>;
    responseTopic?: string;
    correlationData?: Buffer;
    contentType?: string;
  };
}

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** MQTT 5 request/response fields, when the sender set them. */
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
  /**
   * Who published it, as the broker authenticated the connection: a user name, or
   * `anonymous`. Only the embedded broker can tell; from any other broker it is absent,
   * and nothing in the payload stands in for it.
   */
  sender?: string;
  /** The MQTT client id of the connection that published it; only the embedded broker knows. */
  clientId?: string;
}

/** Where messages of a topic filter come from: a broker connection, or the embedded broker itself. */
export interface MessageSource {
  /** Calls `handler` for every message matching `filter`; returns a function that stops it. */
  subscribe(filter: string, handler: MessageHandler, opts?: { qos?: 0 | 1 }): () => void;
}

export type MessageHandler = (msg: IncomingMessage) => void;

/** One message to publish. */
export interface OutgoingPublish {
  topic: string;
  payload: string | Buffer;
  opts: PublishOptions;
}

export interface MqttPublisher {
  /**
   * Publishes now when connected (resolving on PUBACK for QoS 1), or queues it in the
   * bounded offline queue and resolves once it is sent after reconnect.
   */
  publish(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<void>;
  /**
   * Publishes the messages in order as `publish` would, with one promise for all of them:
   * resolves once every one is acknowledged, rejects with the first failure. Optional: a
   * caller without it publishes one by one.
   */
  publishMany?(messages: readonly OutgoingPublish[]): Promise<void>;
  /** Subscribes now and after every reconnect; returns a function that unsubscribes. */
  subscribe(filter: string, handler: MessageHandler, opts?: { qos?: 0 | 1 }): () => void;
  readonly connected: boolean;
  /** Called after each (re)connect, after `online` was published. */
  onConnect(listener: () => void): () => void;
}
