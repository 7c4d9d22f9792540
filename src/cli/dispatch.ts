import { ConfigError } from '../config/load.js';
import { errorMessage } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { UsageError, usageLines } from './args.js';
import { processIo, type Io } from './io.js';

/** A command's code: loaded when it runs, so `outpost run` holds none of the others. */
type Loaded = {
  run: (argv: string[], io: Io) => number | Promise<number>;
  help: string;
};

type Command = {
  load: () => Promise<Loaded>;
  summary: string;
};

// Each command's module is imported when it is chosen, not before: the agent (`run`) never
// loads the CLI's readers and checks (doctor, events, audit …), ~1.5 MiB of heap it would
// hold for its whole life (issue 15, idle RSS).
const COMMANDS: Record<string, Command> = {
  run: {
    load: async () => import('./run.js'),
    summary: 'run the agent (default)',
  },
  'check-config': {
    load: async () => {
      const m = await import('./check-config.js');
      return { run: m.checkConfig, help: m.help };
    },
    summary: 'validate a config file',
  },
  'print-discovery': {
    load: async () => {
      const m = await import('./print-discovery.js');
      return { run: m.printDiscovery, help: m.help };
    },
    summary: 'print every discovery config, one JSON line each',
  },
  discovery: {
    load: async () => {
      const m = await import('./discovery.js');
      return { run: m.discovery, help: m.help };
    },
    summary: 'discovery cleanup: remove stale Home Assistant configs by hand',
  },
  status: {
    load: async () => {
      const m = await import('./status.js');
      return { run: m.status, help: m.help };
    },
    summary: "print this node's retained state from the broker",
  },
  events: {
    load: async () => {
      const m = await import('./events.js');
      return { run: m.events, help: m.help };
    },
    summary: 'print stored events (--since 1h, --type, --json)',
  },
  audit: {
    load: async () => {
      const m = await import('./audit.js');
      return { run: m.audit, help: m.help };
    },
    summary: 'print the remediation audit log (--since 1h, --json)',
  },
  doctor: {
    load: async () => {
      const m = await import('./doctor.js');
      return { run: m.doctor, help: m.help };
    },
    summary: 'check a running site end to end and say what to fix',
  },
  dashboard: {
    load: async () => {
      const m = await import('./dashboard.js');
      return { run: m.dashboard, help: m.help };
    },
    summary: 'print a Home Assistant dashboard (YAML) built from the live entities',
  },
};

export const usage = `outpost ${VERSION} — homelab and edge-site status and remediation for Home Assistant, over MQTT

usage: outpost [COMMAND] [OPTIONS]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`)
  .join('\n')}

options:
  --config, -c FILE  the config file (default $OUTPOST_CONFIG, else ./config.yaml)
  --version          print the version
  --help, -h         this help; COMMAND --help for a command's own`;

/**
 * Where the command's name is: the first word that is neither an option nor the value of
 * `--config` / `-c`, so `outpost --config FILE print-discovery` prints and does not start
 * the agent; -1 when there is none (`run`). Any other option before the name takes no
 * value here, so `outpost --since 1h events` names "1h": an unknown command, refused.
 */
function commandAt(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

/** Dispatches argv to a command; returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [first] = argv;
  if (first === '--version' || first === '-v') return (io.out(VERSION), 0);
  if (first === '--help' || first === '-h' || first === 'help') return (io.out(usage), 0);
  const at = commandAt(argv);
  const name = at < 0 ? 'run' : argv[at]!;
  const command = COMMANDS[name];
  if (!command) {
    io.err(`outpost: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  const loaded = await command.load();
  try {
    return await loaded.run(at < 0 ? argv : argv.filter((_, i) => i !== at), io);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) io.err(`${p.path}: ${p.message}`);
      return 2;
    }
    if (err instanceof UsageError) {
      // The command's own usage line, not every command's help.
      io.err(`outpost ${name}: ${err.message}`);
      io.err(usageLines(loaded.help));
      io.err(`(outpost ${name} --help for more)`);
      return 2;
    }
    io.err(`outpost ${name}: ${errorMessage(err)}`);
    return 1;
  }
}
