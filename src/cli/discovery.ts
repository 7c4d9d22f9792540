import { silentLogger } from '../core/logger.js';
import { discoveryPublisher } from '../../discovery/agent-model.js';
import { agentScope } from '../../discovery/ids.js';
import { scanRetained } from '../../discovery/retained-scan.js';
import { ownConfigFilter } from '../../discovery/topics.js';
import { configuredEntities } from '../main.js';
import { configOption, parse, UsageError, commandConfig } from './args.js';
import { brokerOptions, toolLink } from './connect.js';
import type { Io } from './io.js';
import { progress } from './progress.js';

export const help = `usage: outpost discovery cleanup [--config FILE] [--url URL] [--username U] [--password P]

Removes the retained Home Assistant discovery configs under this node that the agent no
longer produces (the agent does the same at every start). With the embedded broker, log
in as a user whose publish list allows the discovery prefix (e.g. ["homeassistant/#"]).
On a terminal, a step that takes more than a second shows its progress on stderr.`;

export async function discovery(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...configOption, ...brokerOptions });
  if (values.help) return (io.out(help), 0);
  if (positionals[0] !== 'cleanup' || positionals.length > 1) {
    throw new UsageError(`expected "cleanup", got ${JSON.stringify(positionals.join(' '))}`);
  }
  const config = commandConfig(values, io.env);
  const link = toolLink(config, values);
  const log = silentLogger();
  // Waits on the broker draw no ticks: the heartbeat keeps the elapsed time moving.
  const shown = progress(io, 'outpost discovery cleanup', { heartbeat: true });
  try {
    shown.step('building the configs this node produces');
    const publisher = await discoveryPublisher(config, link, undefined, log, () =>
      configuredEntities(config),
    );
    shown.step('connecting to the broker');
    await link.start(5000);
    if (!link.connected) {
      shown.end();
      io.err('cannot reach the broker (see --url, --username, --password)');
      await link.stop();
      return 1;
    }
    shown.step('reading the retained discovery configs');
    const filter = ownConfigFilter(config.mqtt.discovery_prefix, agentScope(config.node.id));
    const retained = await scanRetained(link, filter);
    shown.step(`comparing ${retained.length} retained configs and removing stale ones`);
    const removed = await publisher.cleanupFromBroker(retained);
    await link.stop();
    shown.end();
    for (const t of removed) io.out(`removed ${t}`);
    io.out(`${removed.length} stale discovery config(s) removed`);
    return 0;
  } finally {
    shown.end();
  }
}
