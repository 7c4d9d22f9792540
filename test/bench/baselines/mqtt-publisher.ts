import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { printResult } from '../baseline.js';

/**
 * The uplink bench's baseline (issue 15 point 5): a plain mqtt.js 5 client, as a bare tool
 * would publish, under plain node in its own process. It sends every message of FILE (one
 * per line: `<event id>\t<payload>`, the payloads exactly as the uplink sends them) to
 * TOPIC at QoS 1 with the id in the MQTT 5 user property `event_id`, at most WINDOW
 * unacknowledged, and prints `{ seconds, messages }`: from connecting to the last PUBACK.
 * The file is read before the clock starts: a prepared publisher, not a reader.
 *
 * usage: node mqtt-publisher.js URL TOPIC WINDOW FILE
 */

interface Message {
  id: string;
  payload: string;
}

async function load(file: string): Promise<Message[]> {
  const out: Message[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab < 1) throw new Error(`${file}: line ${out.length + 1}: expected "<id>\\t<payload>"`);
    out.push({ id: line.slice(0, tab), payload: line.slice(tab + 1) });
  }
  return out;
}

async function main([url, topic, windowArg, file]: string[]): Promise<void> {
  if (!url || !topic || !windowArg || !file) {
    throw new Error('usage: mqtt-publisher URL TOPIC WINDOW FILE');
  }
  const window = Number(windowArg);
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new Error(`window ${windowArg}: expected a positive integer`);
  }
  const msgs = await load(file);
  const t0 = performance.now();
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `bench-plain-${process.pid}`,
  });
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const onAck = (err?: Error): void => {
      if (err) return reject(err);
      if (++acked === msgs.length) resolve();
      else pump();
    };
    const pump = (): void => {
      while (sent < msgs.length && sent - acked < window) {
        const m = msgs[sent++]!;
        const opts = { qos: 1 as const, properties: { userProperties: { event_id: m.id } } };
        client.publish(topic, m.payload, opts, onAck);
      }
    };
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  await client.endAsync();
  printResult({ seconds, messages: msgs.length });
}

await main(process.argv.slice(2));
