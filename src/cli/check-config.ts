import { ConfigError, configPath, loadConfig } from '../config/load.js';
import { configOption, parse } from './args.js';
import type { Io } from './io.js';

export const help = `usage: outpost check-config [FILE] [--config FILE]

Validates a configuration file (default: --config, $OUTPOST_CONFIG, ./config.yaml)
and prints every problem, one per line, each naming the file and the key. Exit code 0
when valid, 2 when not.`;

export function checkConfig(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, configOption);
  if (values.help) return (io.out(help), 0);
  const file = configPath(positionals[0] ?? (values.config as string | undefined), io.env);
  try {
    const { config } = loadConfig(file, io.env);
    io.out(
      `${file}: OK (node ${config.node.id}, broker ${config.broker.mode}, ${config.hosts.length} host(s))`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Each line names the file, as a compiler does: `file: path: message`.
    for (const p of err.problems) {
      io.err(p.path === file ? `${file}: ${p.message}` : `${file}: ${p.path}: ${p.message}`);
    }
    return 2;
  }
}
