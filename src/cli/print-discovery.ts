import { discoveryMessages } from '../../discovery/agent-model.js';
import { configuredEntities } from '../main.js';
import { commandConfig, configOption, parse } from './args.js';
import type { Io } from './io.js';

export const help = `usage: outpost print-discovery [--config FILE]

Prints every Home Assistant discovery config the agent would publish for this
configuration, one JSON line each ({"topic", "retain", "qos", "payload"}), without connecting.`;

export function printDiscovery(argv: string[], io: Io): number {
  const { values } = parse(argv, configOption);
  if (values.help) return (io.out(help), 0);
  const config = commandConfig(values, io.env);
  for (const m of discoveryMessages(config, configuredEntities(config))) io.out(JSON.stringify(m));
  return 0;
}
