import type { MqttPublisher } from '../src/mqtt/types.js';

export interface RetainedScanOptions {
  /** Done once no retained message arrived for this long (default 500 ms). */
  readonly quietMs?: number;
  /** Done after this long whatever arrives (default 5 s). */
  readonly maxMs?: number;
}

/**
 * Hands every retained message under some filters to `on`: subscribes, waits until no
 * retained message arrived for `quietMs` (a broker sends them right after SUBACK) or
 * `maxMs` passed, then unsubscribes. An empty payload is the broker clearing the topic.
 */
export async function eachRetained(
  mqtt: MqttPublisher,
  filters: readonly string[],
  on: (topic: string, payload: Buffer) => void,
  opts: RetainedScanOptions = {},
): Promise<void> {
  const quietMs = opts.quietMs ?? 500;
  const maxMs = opts.maxMs ?? 5000;
  let last = Date.now();
  const unsubscribe = filters.map((f) =>
    mqtt.subscribe(f, (m) => {
      if (!m.retain) return;
      last = Date.now();
      on(m.topic, m.payload);
    }),
  );
  const started = Date.now();
  try {
    while (Date.now() - last < quietMs && Date.now() - started < maxMs) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    for (const u of unsubscribe) u();
  }
}

/**
 * The topics of non-empty retained messages under a filter, sorted; their payloads are
 * not kept. Used to find discovery configs left on the broker.
 */
export async function scanRetained(
  mqtt: MqttPublisher,
  filter: string,
  opts: RetainedScanOptions = {},
): Promise<string[]> {
  const found = new Set<string>();
  await eachRetained(
    mqtt,
    [filter],
    (topic, payload) => (payload.length > 0 ? found.add(topic) : found.delete(topic)),
    opts,
  );
  return [...found].sort();
}
