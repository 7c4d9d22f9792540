import { parseArgs, type ParseArgsConfig } from 'node:util';
import { configPath, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: Options): Parsed {
  try {
    const r = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: r.values, positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const configOption: Options = {
  config: { type: 'string', short: 'c' },
};

/**
 * The config a command works on (--config, $OUTPOST_CONFIG, ./config.yaml). A bad one
 * throws ConfigError, which the dispatcher prints one problem a line, exit code 2.
 */
export function commandConfig(values: Parsed['values'], env: NodeJS.ProcessEnv): Config {
  const explicit = typeof values.config === 'string' ? values.config : undefined;
  return loadConfig(configPath(explicit, env), env).config;
}
