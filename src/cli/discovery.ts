import { silentLogger } from '../core/logger.js';
import { discoveryPublisher, removeStaleDiscovery } from '../../discovery/agent-model.js';
import { configuredEntities } from '../main.js';
import { configOption, parse, UsageError, commandConfig } from './args.js';
import { brokerOptions, toolLink } from './connect.js';
import type { Io } from './io.js';

export const help = `usage: outpost discovery cleanup [--config FILE] [--url URL] [--username U] [--password P]

Removes the retained Home Assistant discovery configs under this node that the agent no
longer produces (the agent does the same at every start). With the embedded broker, log
in as a user whose publish list allows the discovery prefix (e.g. ["homeassistant/#"]).`;

export async function discovery(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...configOption, ...brokerOptions });
  if (values.help) return (io.out(help), 0);
  if (positionals[0] !== 'cleanup' || positionals.length > 1) {
    throw new UsageError(`expected "cleanup", got ${JSON.stringify(positionals.join(' '))}`);
  }
  const config = commandConfig(values, io.env);
  const link = toolLink(config, values);
  const log = silentLogger();
  const publisher = await discoveryPublisher(config, link, undefined, log, () =>
    configuredEntities(config),
  );
  await link.start(5000);
  if (!link.connected) {
    io.err('cannot reach the broker (see --url, --username, --password)');
    await link.stop();
    return 1;
  }
  const removed = await removeStaleDiscovery(config, link, publisher, log);
  await link.stop();
  for (const t of removed) io.out(`removed ${t}`);
  io.out(`${removed.length} stale discovery config(s) removed`);
  return 0;
}
