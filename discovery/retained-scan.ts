import type { MqttPublisher } from '../src/mqtt/types.js';

/**
 * Collects the topics of non-empty retained messages under a filter: subscribes, waits
 * until no retained message arrived for `quietMs` (a broker sends them right after
 * SUBACK), then unsubscribes. Used to find discovery configs left on the broker.
 */
export async function scanRetained(
  mqtt: MqttPublisher,
  filter: string,
  opts: { quietMs?: number; maxMs?: number } = {},
): Promise<string[]> {
  const quietMs = opts.quietMs ?? 500;
  const maxMs = opts.maxMs ?? 5000;
  const found = new Set<string>();
  let last = Date.now();
  const unsubscribe = mqtt.subscribe(filter, (m) => {
    if (!m.retain) return;
    last = Date.now();
    if (m.payload.length > 0) found.add(m.topic);
    else found.delete(m.topic);
  });
  const started = Date.now();
  try {
    while (Date.now() - last < quietMs && Date.now() - started < maxMs) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    unsubscribe();
  }
  return [...found].sort();
}
