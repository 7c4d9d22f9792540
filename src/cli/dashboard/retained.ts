import { eachRetained, type RetainedScanOptions } from '../../../discovery/retained-scan.js';
import type { MqttPublisher } from '../../mqtt/types.js';

/** The retained messages under some filters, topic → payload text (discovery/retained-scan.ts). */
export async function collectRetained(
  mqtt: MqttPublisher,
  filters: readonly string[],
  opts: RetainedScanOptions = {},
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  await eachRetained(
    mqtt,
    filters,
    (topic, payload) => {
      if (payload.length > 0) found.set(topic, payload.toString('utf8'));
      else found.delete(topic);
    },
    opts,
  );
  return found;
}
