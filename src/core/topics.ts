import { slugify } from './slug.js';

/**
 * The MQTT contract, written once (DESIGN.md "Topics"). No topic string is assembled
 * anywhere else: publishers, subscribers and tests import these builders.
 */
export interface TopicRoot {
  base: string;
  node: string;
}

export const ONLINE = 'online';
export const OFFLINE = 'offline';

/** Every action that can arrive on a command topic. */
export const COMMAND_ACTIONS = [
  'restart_container',
  'start_container',
  'stop_container',
  'run_backup',
  'disk_cleanup',
  'approve',
  'reject',
  /** Chooses the pending action `approve` / `reject` with `selected: true` act on. */
  'select',
  'silence',
  'maintenance',
  'ack',
] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

export function nodeRoot(t: TopicRoot): string {
  return `${t.base}/${t.node}`;
}

export const topics = {
  availability: (t: TopicRoot) => `${nodeRoot(t)}/availability`,
  /** A host's container totals and problem flag (retained JSON). */
  host: (t: TopicRoot, host: string) => `${nodeRoot(t)}/hosts/${slugify(host)}`,
  hostAvailability: (t: TopicRoot, host: string) =>
    `${nodeRoot(t)}/hosts/${slugify(host)}/availability`,
  container: (t: TopicRoot, host: string, name: string) =>
    `${nodeRoot(t)}/hosts/${slugify(host)}/containers/${slugify(name)}`,
  disk: (t: TopicRoot, host: string, mount: string) =>
    `${nodeRoot(t)}/hosts/${slugify(host)}/disks/${slugify(mount)}`,
  /** One drive's SMART health (retained JSON); `drive` is its key (`sda`, `nvme0`). */
  smart: (t: TopicRoot, host: string, drive: string) =>
    `${nodeRoot(t)}/hosts/${slugify(host)}/smart/${slugify(drive)}`,
  watchdog: (t: TopicRoot) => `${nodeRoot(t)}/watchdog`,
  backup: (t: TopicRoot, job: string) => `${nodeRoot(t)}/backups/${slugify(job)}`,
  /** Reports of backups something else runs (issue #17), and the answer to each. */
  backupReport: (t: TopicRoot, job: string) => `${nodeRoot(t)}/backups/${slugify(job)}/report`,
  backupReportFilter: (t: TopicRoot) => `${nodeRoot(t)}/backups/+/report`,
  backupReportResult: (t: TopicRoot, job: string) =>
    `${nodeRoot(t)}/backups/${slugify(job)}/report/result`,
  events: (t: TopicRoot) => `${nodeRoot(t)}/events`,
  command: (t: TopicRoot, action: CommandAction) => `${nodeRoot(t)}/cmd/${action}`,
  commandResult: (t: TopicRoot, action: CommandAction) => `${nodeRoot(t)}/cmd/${action}/result`,
  /** Subscription filter for every command of this node. */
  commandFilter: (t: TopicRoot) => `${nodeRoot(t)}/cmd/+`,
  action: (t: TopicRoot, id: string) => `${nodeRoot(t)}/actions/${slugify(id)}`,
  /** Everything this node publishes (for `outpost status`). */
  nodeFilter: (t: TopicRoot) => `${nodeRoot(t)}/#`,
  /** The uplink bridge's own state: connected, backlog, oldest unsent age (retained JSON). */
  uplink: (t: TopicRoot) => `${nodeRoot(t)}/uplink`,
  /** The Home Assistant bridge's own state: link, HA's health (retained JSON). */
  homeAssistant: (t: TopicRoot) => `${nodeRoot(t)}/home_assistant`,
  /** Home Assistant's birth / last-will topic. */
  haStatus: (discoveryPrefix: string) => `${discoveryPrefix}/status`,
  /** The result topic of a command topic, for any action word (unknown ones are answered too). */
  commandResultOf: (t: TopicRoot, action: string) => `${nodeRoot(t)}/cmd/${action}/result`,
  /** Actions awaiting approval: retained `{ pending, actions: [...] }` (issue 6). */
  pendingActions: (t: TopicRoot) => `${nodeRoot(t)}/remediation/pending`,
  /** A host's maintenance mode: retained `{ maintenance, until }` (issue 6). */
  hostMaintenance: (t: TopicRoot, host: string) =>
    `${nodeRoot(t)}/hosts/${slugify(host)}/maintenance`,
  /** Silences of a host and of its containers: retained `{ silenced, until, by, containers }`. */
  hostSilence: (t: TopicRoot, host: string) => `${nodeRoot(t)}/hosts/${slugify(host)}/silence`,
} as const;

/** MQTT topic filter match (`+` one level, `#` the rest), per MQTT 3.1.1 §4.7. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // §4.7.2: a filter starting with a wildcard does not match topics starting with '$'.
  if ((f[0] === '#' || f[0] === '+') && topic.startsWith('$')) return false;
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}
