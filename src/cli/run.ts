import { ConfigError, configPath, loadConfig } from '../config/load.js';
import { releaseYamlParser } from '../config/yaml-parser.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { startAgent } from '../main.js';
import { configOption, parse, UsageError } from './args.js';
import type { Io } from './io.js';
import { systemdNotifier } from './sd-notify.js';

export const help = `usage: outpost run [--config FILE]

Runs the agent (the default command). The config file is --config, else
$OUTPOST_CONFIG, else ./config.yaml. SIGTERM or SIGINT publishes "offline",
flushes, stops the embedded broker and exits 0 within 5 s. Under systemd (Type=notify,
docker/outpost.service) it sends READY=1 once running, pets WatchdogSec= from its event
loop and sends STOPPING=1 on the way out.`;

/** Leaves room under the 5 s promise for the process to exit. */
const STOP_DEADLINE_MS = 4500;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, configOption);
  if (values.help) return (io.out(help), 0);
  // A word the agent would ignore is a mistyped command: never start the agent for it.
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const file = configPath(values.config as string | undefined, io.env);
  let loaded;
  try {
    loaded = loadConfig(file, io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${file}: invalid configuration`);
    for (const p of err.problems) io.err(`${p.path}: ${p.message}`);
    return 2;
  }
  releaseYamlParser(); // the config is read once: the parser can be collected
  const log = createLogger({ level: loaded.config.log.level, secrets: loaded.secrets });
  // Listen before starting: a signal during start-up must still end in a clean stop.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // Nothing else may hold the event loop while the broker is unreachable.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  // Petting starts now: systemd's watchdog runs from the start, not from READY=1.
  const systemd = await systemdNotifier(io.env, log);
  systemd?.status(`starting (node ${loaded.config.node.id})`);
  let agent;
  try {
    agent = await startAgent(loaded, log);
  } catch (err) {
    log.fatal({ err: errorMessage(err) }, 'outpost could not start');
    systemd?.status(`could not start: ${errorMessage(err)}`);
    systemd?.close();
    clearInterval(keepAlive);
    return 1;
  }
  systemd?.ready(`running (node ${loaded.config.node.id}, broker ${loaded.config.broker.mode})`);
  const signal = await signalled;
  log.info({ signal }, 'stopping');
  systemd?.stopping(`stopping (${signal})`);
  process.once(signal, () => process.exit(130)); // a second signal: stop waiting
  const deadline = setTimeout(() => {
    log.error({ deadlineMs: STOP_DEADLINE_MS }, 'stop took too long; exiting anyway');
    process.exit(0);
  }, STOP_DEADLINE_MS);
  await agent.stop();
  clearTimeout(deadline);
  systemd?.close();
  clearInterval(keepAlive);
  log.info('stopped');
  log.flush();
  return 0;
}
