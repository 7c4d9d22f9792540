import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { OutpostError } from '../core/errors.js';
import { substituteEnv } from './env.js';
import { expectedMessage, formatProblems, problemsFromZod, type ConfigProblem } from './errors.js';
import { configSchema, type Config } from './schema.js';
import { parseYaml } from './yaml-parser.js';

/** Thrown for a config that cannot be used; `problems` holds every one found. */
export class ConfigError extends OutpostError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[], file?: string) {
    super(
      'CONFIG_INVALID',
      `${file ? `${file}: ` : ''}${problems.length} problem(s)\n${formatProblems(problems)}`,
    );
    this.problems = problems;
  }
}

export interface LoadedConfig {
  config: Readonly<Config>;
  file: string | undefined;
  /** Every secret value in the config, for the log filter. */
  secrets: string[];
}

/** Which config file to use: --config, then OUTPOST_CONFIG, then ./config.yaml. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(explicit ?? env.OUTPOST_CONFIG ?? 'config.yaml');
}

/** Parses and validates YAML text; throws ConfigError with every problem at once. */
export function parseConfig(
  text: string,
  opts: { env?: NodeJS.ProcessEnv; file?: string } = {},
): LoadedConfig {
  const env = opts.env ?? process.env;
  const yaml = parseYaml(text);
  if (yaml.problems.length > 0) {
    throw new ConfigError(
      yaml.problems.map((e) => ({
        path: e.line !== undefined ? `line ${e.line}, column ${e.col}` : '(yaml)',
        message: `YAML syntax: ${e.message}`,
      })),
      opts.file,
    );
  }
  const raw: unknown = yaml.value ?? {};
  const problems: ConfigProblem[] = [];
  const substituted = substituteEnv(raw, env, problems);
  const result = configSchema.safeParse(substituted, { reportInput: true, error: expectedMessage });
  if (!result.success) problems.push(...problemsFromZod(result.error, configSchema));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems, opts.file);

  const config = result.data;
  const token = haToken(config, env);
  const base = opts.file ? dirname(opts.file) : process.cwd();
  if (!isAbsolute(config.data_dir)) config.data_dir = resolve(base, config.data_dir);
  if (env.LOG_LEVEL) {
    const lvl = env.LOG_LEVEL.toLowerCase();
    const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
    const found = levels.find((l) => l === lvl);
    if (!found) {
      throw new ConfigError([
        {
          path: 'LOG_LEVEL (environment)',
          message: `expected one of ${levels.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`,
        },
      ]);
    }
    config.log.level = found;
  }
  const secrets = [...collectSecrets(config), ...(token ? [token] : [])];
  return { config: deepFreeze(config), file: opts.file, secrets };
}

/** Reads a config file; a missing or unreadable file is a ConfigError too. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { path: file, message: `cannot read the config file: ${(err as Error).message}` },
    ]);
  }
  return parseConfig(text, { env, file });
}

/**
 * The Home Assistant bridge's token, from the variable `home_assistant.token_env` names: a
 * secret for the log filter, and a config error when it is not set (the bridge could
 * never connect).
 */
function haToken(c: Config, env: NodeJS.ProcessEnv): string | undefined {
  if (!c.home_assistant) return undefined;
  const name = c.home_assistant.token_env;
  const token = env[name];
  if (!token) {
    throw new ConfigError([
      {
        path: 'home_assistant.token_env',
        message: `environment variable ${name} is not set: expected a long-lived access token of Home Assistant there`,
      },
    ]);
  }
  return token;
}

function collectSecrets(c: Config): string[] {
  const out: string[] = [];
  if (c.broker.password) out.push(c.broker.password);
  for (const u of c.broker.users) out.push(u.password);
  for (const h of c.hosts) if (h.ssh?.passphrase) out.push(h.ssh.passphrase);
  for (const w of c.watchdog?.checks ?? []) if (w.mqtt?.password) out.push(w.mqtt.password);
  if (c.broker.url) {
    const m = /\/\/[^/:@]+:([^@/]+)@/.exec(c.broker.url);
    if (m?.[1]) out.push(decodeURIComponent(m[1]));
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
