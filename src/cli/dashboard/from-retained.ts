import { stringify } from 'yaml';
import { agentScope, hostScope } from '../../../discovery/ids.js';
import { thresholdsFor } from '../../capabilities/disks/levels.js';
import type { Config } from '../../config/schema.js';
import { UsageError } from '../args.js';
import { buildDashboard, type Dashboard } from './builder.js';
import type { Severity } from './cards.js';
import { liveEntities, type LiveEntity, type RetainedMessage } from './live-entities.js';

/** Levels a gauge shows without a `disks` section: the section's own defaults. */
const DEFAULT_LEVELS = { warn: 85, critical: 95 };

export interface DashboardOptions {
  readonly title?: string;
  /** Host ids (`hosts[].id`) or host device names; all hosts when empty. */
  readonly hosts?: readonly string[];
}

/** Why no dashboard could be made from what the broker holds: exit code 1, this message. */
export class NothingRetainedError extends Error {}

/**
 * The dashboard of this config's node from the broker's retained messages (its discovery
 * configs, and its states for the mount a disk gauge shows).
 */
export function dashboardFromRetained(
  config: Config,
  retained: ReadonlyMap<string, string>,
  opts: DashboardOptions = {},
): Dashboard {
  const prefix = config.mqtt.discovery_prefix;
  const agentId = agentScope(config.node.id);
  const messages: RetainedMessage[] = [...retained].map(([topic, payload]) => ({
    topic,
    payload,
  }));
  const live = liveEntities(messages, prefix);
  const mine = live.entities.filter(
    (e) => e.device.id === agentId || e.device.id.startsWith(`${agentId}_`),
  );
  if (mine.length === 0) {
    const why = live.skipped.length > 0 ? ` (passed over: ${live.skipped.join('; ')})` : '';
    throw new NothingRetainedError(
      `no entities of node "${config.node.id}" in the retained discovery configs under ` +
        `${prefix}/+/${agentId}/+/config${why}: is the agent running with this config ` +
        `(node.id, mqtt.discovery_prefix), and has it published discovery yet?`,
    );
  }
  return buildDashboard({
    entities: mine,
    agentId,
    title:
      opts.title ??
      `${mine.find((e) => e.device.id === agentId)?.device.name ?? config.node.id} (outpost)`,
    levels: (mount) => severityOf(config, mount),
    mountOf: (e) => mountOf(e, retained),
    hosts: hostFilter(config, mine, opts.hosts ?? []),
  });
}

/** Green from 0, yellow from the mount's warn level, red from its critical one. */
function severityOf(config: Config, mount: string): Severity {
  const t = config.disks ? thresholdsFor(mount, config.disks) : DEFAULT_LEVELS;
  return { green: 0, yellow: t.warn, red: t.critical };
}

/** The mount in a disk's retained state (`{"mount": "/mnt/data", ...}`), if it is there. */
function mountOf(e: LiveEntity, retained: ReadonlyMap<string, string>): string | undefined {
  const text = e.stateTopic === undefined ? undefined : retained.get(e.stateTopic);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as { mount?: unknown };
    return typeof v.mount === 'string' ? v.mount : undefined;
  } catch {
    return undefined;
  }
}

/** `--host` values as host device ids; a value naming no host is a usage error. */
function hostFilter(
  config: Config,
  entities: readonly LiveEntity[],
  wanted: readonly string[],
): Set<string> | undefined {
  if (wanted.length === 0) return undefined;
  const agentId = agentScope(config.node.id);
  const devices = new Map<string, string>();
  for (const e of entities) if (e.device.id !== agentId) devices.set(e.device.id, e.device.name);
  const ids = new Set<string>();
  for (const w of wanted) {
    const id = devices.has(hostScope(config.node.id, w))
      ? hostScope(config.node.id, w)
      : [...devices].find(([, name]) => name === w)?.[0];
    if (id === undefined) {
      const known = [...devices.values()].sort().join(', ') || 'none';
      throw new UsageError(
        `--host: no host "${w}" among the retained configs; expected a host id or name (${known})`,
      );
    }
    ids.add(id);
  }
  return ids;
}

/** The dashboard as YAML, with a header saying where it came from. */
export function dashboardYaml(d: Dashboard, node: string): string {
  const header =
    `# Home Assistant dashboard of outpost node "${node}", made by \`outpost dashboard\` from\n` +
    `# the entities its agent has published. Regenerate it after adding hosts or containers.\n`;
  return header + stringify(d, { lineWidth: 0 });
}
