import { agentScope } from '../../discovery/ids.js';
import { scanRetained } from '../../discovery/retained-scan.js';
import { ownConfigFilter } from '../../discovery/topics.js';
import { ConfigError, configPath, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { scrubUrlCredentials } from '../core/logger.js';
import { topics } from '../core/topics.js';
import { topicRoot } from '../mqtt/link-options.js';
import { configOption, parse } from './args.js';
import { brokerOptions, toolLink, toolUrl } from './connect.js';
import {
  checkAgent,
  checkClock,
  checkDiscovery,
  checkHomeAssistant,
  checkSshHosts,
  checkStore,
  type Finding,
  type RetainedView,
} from './doctor-checks.js';
import type { Io } from './io.js';
import { progress, type Progress } from './progress.js';

export const help = `usage: outpost doctor [--config FILE] [--url URL] [--username U] [--password P]

Checks a running site end to end and says what to fix: the config, the broker, the agent's
retained availability, Home Assistant's birth message, the discovery configs retained for
this node, the data dir and event store, every SSH host (reachable, pinned key, login) and
the clock. Run it where the agent runs, with its config. Exit code 0 when nothing failed
(warnings allowed), 1 when something did.`;

export async function doctor(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { ...configOption, ...brokerOptions });
  if (values.help) return (io.out(help), 0);
  const file = configPath(values.config as string | undefined, io.env);
  const findings: Finding[] = [];
  const shown = progress(io, 'outpost doctor', { heartbeat: true });
  try {
    shown.step('reading the config');
    let config: Config;
    try {
      config = loadConfig(file, io.env).config;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const lines = err.problems.map((p) =>
        p.path === file ? p.message : `${p.path}: ${p.message}`,
      );
      findings.push({
        check: 'config',
        verdict: 'fail',
        detail: `${file}: ${lines.join('; ')}`,
        fix: `outpost check-config ${file}`,
      });
      return report(io, findings);
    }
    findings.push({
      check: 'config',
      verdict: 'ok',
      detail: `${file} (node ${config.node.id}, broker ${config.broker.mode})`,
    });
    findings.push(...(await brokerFindings(config, values, shown)));
    shown.step('checking the data dir and event store');
    findings.push(await checkStore(config));
    shown.step('logging in to the SSH hosts');
    findings.push(...(await checkSshHosts(config)));
    findings.push(await checkClock(config));
  } finally {
    shown.end();
  }
  return report(io, findings);
}

/** The broker, then what it holds retained for this node (agent, HA, discovery). */
async function brokerFindings(
  config: Config,
  values: Record<string, string | boolean | undefined>,
  shown: Progress,
): Promise<Finding[]> {
  const link = toolLink(config, values);
  const availabilityTopic = topics.availability(topicRoot(config));
  const haTopic = topics.haStatus(config.mqtt.discovery_prefix);
  const seen: { availability?: string; haStatus?: string } = {};
  link.subscribe(availabilityTopic, (m) => {
    if (m.retain) seen.availability = m.payload.toString('utf8');
  });
  link.subscribe(haTopic, (m) => {
    if (m.retain) seen.haStatus = m.payload.toString('utf8');
  });
  shown.step('connecting to the broker');
  try {
    await link.start(5000);
    if (!link.connected) {
      const skipped = 'not checked: the broker is unreachable';
      return [
        {
          check: 'broker',
          verdict: 'fail',
          detail: `cannot reach ${scrubUrlCredentials(toolUrl(config, values))}`,
          fix:
            config.broker.mode === 'embedded'
              ? `the embedded broker runs inside the agent: is it running (broker.listen ${config.broker.listen.host}:${config.broker.listen.port})?`
              : 'is the broker running, and are broker.url and the credentials (--username, --password) right?',
        },
        ...['agent', 'home assistant', 'discovery'].map((check): Finding => ({
          check,
          verdict: 'fail',
          detail: skipped,
        })),
      ];
    }
    shown.step('reading what the broker retains for this node');
    const filter = ownConfigFilter(config.mqtt.discovery_prefix, agentScope(config.node.id));
    const configTopics = await scanRetained(link, filter);
    const view: RetainedView = {
      configTopics,
      availability: seen.availability,
      haStatus: seen.haStatus,
    };
    return [
      {
        check: 'broker',
        verdict: 'ok',
        detail: `${scrubUrlCredentials(toolUrl(config, values))} answers`,
      },
      checkAgent(config, view),
      checkHomeAssistant(config, view),
      checkDiscovery(config, view),
    ];
  } finally {
    await link.stop();
  }
}

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** One line a finding, its fix under it; a summary; exit 1 when anything failed. */
function report(io: Io, findings: readonly Finding[]): number {
  const width = Math.max(...findings.map((f) => f.check.length));
  for (const f of findings) {
    io.out(`${MARK[f.verdict]}  ${f.check.padEnd(width)}  ${f.detail}`);
    if (f.fix) io.out(`${' '.repeat(6 + width + 2)}fix: ${f.fix}`);
  }
  const failed = findings.filter((f) => f.verdict === 'fail').length;
  const warned = findings.filter((f) => f.verdict === 'warn').length;
  io.out(
    failed === 0
      ? `all ${findings.length} checks passed${warned ? ` (${warned} warning(s))` : ''}`
      : `${failed} of ${findings.length} checks failed${warned ? `, ${warned} warning(s)` : ''}`,
  );
  return failed === 0 ? 0 : 1;
}
