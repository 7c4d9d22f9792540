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
    throw new UsageError(usageMessage(err as Error & { code?: string }));
  }
}

/** node's parseArgs messages, shortened where they explain more than a usage line needs. */
function usageMessage(err: Error & { code?: string }): string {
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(err.message)?.[1];
    if (option !== undefined) return `unknown option ${option}`;
  }
  return err.message;
}

/** A command's usage line: its help up to the first blank line. */
export function usageLines(help: string): string {
  const blank = help.indexOf('\n\n');
  return blank < 0 ? help : help.slice(0, blank);
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
