import { writeFile } from 'node:fs/promises';
import { agentScope } from '../../discovery/ids.js';
import { ownConfigFilter } from '../../discovery/topics.js';
import { scrubUrlCredentials } from '../core/logger.js';
import { topics } from '../core/topics.js';
import { topicRoot } from '../mqtt/link-options.js';
import { commandConfig, configOption, parse, UsageError } from './args.js';
import { brokerOptions, toolLink, toolUrl } from './connect.js';
import {
  dashboardFromRetained,
  dashboardYaml,
  NothingRetainedError,
} from './dashboard/from-retained.js';
import { liveEntities } from './dashboard/live-entities.js';
import { previewStates } from './dashboard/preview-states.js';
import { previewHtml } from './dashboard/preview.js';
import { collectRetained } from './dashboard/retained.js';
import type { Io } from './io.js';
import { progress } from './progress.js';

export const help = `usage: outpost dashboard [--config FILE] [--output FILE] [--title TEXT] [--host ID]... [--preview FILE] [--url URL] [--username U] [--password P] [--wait MS]

Prints a Home Assistant dashboard (a sections view, YAML) built from the entities this
node's agent has published: the discovery configs retained on the broker under the
discovery prefix, in either discovery mode. A section for the agent (its link, the
watchdog, open problems, the approval buttons), one per host (containers with their
restart buttons, disk gauges coloured by the disks section's warn and critical levels,
backups with their last success), and the Home Assistant bridge and Zigbee2MQTT when
they are there. Paste it into a dashboard's raw configuration editor (docs/dashboard.md).

  --output FILE   write the YAML to FILE instead of stdout
  --title TEXT    the dashboard's title (default: the node's name)
  --host ID       only this host (its id or name); repeat for more
  --preview FILE  also write outpost's own HTML preview of it, with the current states
  --wait MS       how long to wait for retained messages at most (default 5000)`;

export async function dashboard(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...configOption,
    ...brokerOptions,
    output: { type: 'string', short: 'o' },
    title: { type: 'string' },
    host: { type: 'string', multiple: true },
    preview: { type: 'string' },
    wait: { type: 'string' },
  });
  if (values.help) return (io.out(help), 0);
  const maxMs = values.wait === undefined ? 5000 : Number(values.wait);
  if (!Number.isInteger(maxMs) || maxMs <= 0) {
    throw new UsageError(
      `--wait: expected a whole number of milliseconds such as 5000, got ${JSON.stringify(values.wait)}`,
    );
  }
  const config = commandConfig(values, io.env);
  const link = toolLink(config, values);
  const url = scrubUrlCredentials(toolUrl(config, values));
  const shown = progress(io, 'outpost dashboard', { heartbeat: true });
  let retained: Map<string, string>;
  try {
    shown.step('connecting to the broker');
    await link.start(Math.min(maxMs, 5000));
    if (!link.connected) {
      shown.end();
      io.err(
        `cannot reach the broker at ${url} (is the agent running? see --url, --username, --password)`,
      );
      return 1;
    }
    shown.step('reading the retained discovery configs and states');
    const filters = [
      ownConfigFilter(config.mqtt.discovery_prefix, agentScope(config.node.id)),
      topics.nodeFilter(topicRoot(config)),
    ];
    retained = await collectRetained(link, filters, { maxMs });
  } finally {
    shown.end();
    await link.stop();
  }
  const hosts = (values.host as string[] | undefined) ?? [];
  let board;
  try {
    board = dashboardFromRetained(config, retained, {
      ...(typeof values.title === 'string' ? { title: values.title } : {}),
      hosts,
    });
  } catch (err) {
    if (!(err instanceof NothingRetainedError)) throw err;
    io.err(`${err.message} (broker ${url})`);
    return 1;
  }
  const yaml = dashboardYaml(board, config.node.id);
  if (typeof values.preview === 'string') {
    const live = liveEntities(
      [...retained].map(([topic, payload]) => ({ topic, payload })),
      config.mqtt.discovery_prefix,
    );
    await writeFile(values.preview, previewHtml(board, previewStates(live.entities, retained)));
  }
  if (typeof values.output === 'string') {
    await writeFile(values.output, yaml);
    const sections = board.views[0].sections as unknown[];
    io.out(`wrote ${values.output}: ${sections.length} section(s)`);
  } else {
    io.out(yaml.replace(/\n$/, ''));
  }
  return 0;
}
