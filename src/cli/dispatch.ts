import { ConfigError } from '../config/load.js';
import { errorMessage } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { UsageError, usageLines } from './args.js';
import { audit, help as auditHelp } from './audit.js';
import { checkConfig, help as checkConfigHelp } from './check-config.js';
import { dashboard, help as dashboardHelp } from './dashboard.js';
import { discovery, help as discoveryHelp } from './discovery.js';
import { doctor, help as doctorHelp } from './doctor.js';
import { events, help as eventsHelp } from './events.js';
import { processIo, type Io } from './io.js';
import { printDiscovery, help as printDiscoveryHelp } from './print-discovery.js';
import { run, help as runHelp } from './run.js';
import { status, help as statusHelp } from './status.js';

type Command = {
  run: (argv: string[], io: Io) => number | Promise<number>;
  help: string;
  summary: string;
};

const COMMANDS: Record<string, Command> = {
  run: { run, help: runHelp, summary: 'run the agent (default)' },
  'check-config': { run: checkConfig, help: checkConfigHelp, summary: 'validate a config file' },
  'print-discovery': {
    run: printDiscovery,
    help: printDiscoveryHelp,
    summary: 'print every discovery config, one JSON line each',
  },
  discovery: {
    run: discovery,
    help: discoveryHelp,
    summary: 'discovery cleanup: remove stale Home Assistant configs by hand',
  },
  status: {
    run: status,
    help: statusHelp,
    summary: "print this node's retained state from the broker",
  },
  events: {
    run: events,
    help: eventsHelp,
    summary: 'print stored events (--since 1h, --type, --json)',
  },
  audit: {
    run: audit,
    help: auditHelp,
    summary: 'print the remediation audit log (--since 1h, --json)',
  },
  doctor: {
    run: doctor,
    help: doctorHelp,
    summary: 'check a running site end to end and say what to fix',
  },
  dashboard: {
    run: dashboard,
    help: dashboardHelp,
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

/** Dispatches argv to a command; returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') return (io.out(VERSION), 0);
  if (first === '--help' || first === '-h' || first === 'help') return (io.out(usage), 0);
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : 'run';
  const command = COMMANDS[name];
  if (!command) {
    io.err(`outpost: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    return await command.run(named ? rest : argv, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) io.err(`${p.path}: ${p.message}`);
      return 2;
    }
    if (err instanceof UsageError) {
      // The command's own usage line, not every command's help.
      io.err(`outpost ${name}: ${err.message}`);
      io.err(usageLines(command.help));
      io.err(`(outpost ${name} --help for more)`);
      return 2;
    }
    io.err(`outpost ${name}: ${errorMessage(err)}`);
    return 1;
  }
}
