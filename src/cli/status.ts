import { nodeRoot, topics } from '../core/topics.js';
import { topicRoot } from '../mqtt/link-options.js';
import { configOption, parse, commandConfig } from './args.js';
import { brokerOptions, toolLink } from './connect.js';
import type { Io } from './io.js';

export const help = `usage: outpost status [--config FILE] [--url URL] [--username U] [--password P] [--wait MS]

Reads this node's retained state from the broker and prints it as a table. With the
embedded broker it connects to the configured listen port on loopback; --url and the
credentials override. It waits until no retained message arrived for a moment, or --wait ms.`;

export async function status(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...configOption,
    ...brokerOptions,
    wait: { type: 'string' },
  });
  if (values.help) return (io.out(help), 0);
  const config = commandConfig(values, io.env);
  const maxWait = Number(values.wait ?? 3000);
  const link = toolLink(config, values);
  const rows = new Map<string, string>();
  let last = Date.now();
  const root = topicRoot(config);
  link.subscribe(topics.nodeFilter(root), (m) => {
    if (!m.retain || m.payload.length === 0) return;
    rows.set(m.topic.slice(nodeRoot(root).length + 1), summarize(m.payload.toString('utf8')));
    last = Date.now();
  });
  await link.start(Math.min(maxWait, 5000));
  if (!link.connected) {
    io.err('cannot reach the broker (is the agent running? see --url, --username, --password)');
    await link.stop();
    return 1;
  }
  const started = Date.now();
  while (Date.now() - started < maxWait && Date.now() - last < 300) await sleep(50);
  while (Date.now() - started < maxWait && Date.now() - last < 300) await sleep(50);
  await link.stop();
  if (rows.size === 0) {
    io.out(`no retained state under ${nodeRoot(root)}/ (is the agent running?)`);
    return 1;
  }
  const width = Math.max(...[...rows.keys()].map((k) => k.length), 5);
  io.out(`${'TOPIC'.padEnd(width)}  STATE`);
  for (const [k, v] of [...rows].sort(([a], [b]) => a.localeCompare(b)))
    io.out(`${k.padEnd(width)}  ${v}`);
  return 0;
}

/** One line for a state: JSON objects as key=value pairs, anything else as is. */
export function summarize(text: string): string {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.entries(v)
        .filter(([, x]) => x === null || typeof x !== 'object')
        .map(([k, x]) => `${k}=${String(x)}`)
        .join(' ')
        .slice(0, 160);
    }
  } catch {
    // not JSON: show the text
  }
  return text.slice(0, 160);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
