import type { MqttPublisher } from '../../mqtt/types.js';

/**
 * The retained messages under some filters, topic → payload text: subscribes, waits until no
 * retained message arrived for `quietMs` (a broker sends them right after SUBACK) or
 * `maxMs` passed, then unsubscribes. An empty payload clears a topic, as it does on the
 * broker.
 */
export async function collectRetained(
  mqtt: MqttPublisher,
  filters: readonly string[],
  opts: { quietMs?: number; maxMs?: number } = {},
): Promise<Map<string, string>> {
  const quietMs = opts.quietMs ?? 500;
  const maxMs = opts.maxMs ?? 5000;
  const found = new Map<string, string>();
  let last = Date.now();
  const unsubscribe = filters.map((f) =>
    mqtt.subscribe(f, (m) => {
      if (!m.retain) return;
      last = Date.now();
      if (m.payload.length > 0) found.set(m.topic, m.payload.toString('utf8'));
      else found.delete(m.topic);
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
  return found;
}
