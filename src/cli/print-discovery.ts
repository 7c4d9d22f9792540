import { ConfigError, configPath, loadConfig } from '../config/load.js';
import { discoveryMessages } from '../main.js';
import { configOption, parse } from './args.js';
import type { Io } from './io.js';

export const help = `usage: outpost print-discovery [--config FILE]

Prints every Home Assistant discovery config the agent would publish for this
configuration, one JSON line each ({"topic", "retain", "qos", "payload"}), without connecting.`;

export function printDiscovery(argv: string[], io: Io): number {
  const { values } = parse(argv, configOption);
  if (values.help) return (io.out(help), 0);
  try {
    const { config } = loadConfig(configPath(values.config as string | undefined, io.env), io.env);
    for (const m of discoveryMessages(config)) io.out(JSON.stringify(m));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(`${p.path}: ${p.message}`);
    return 2;
  }
}
