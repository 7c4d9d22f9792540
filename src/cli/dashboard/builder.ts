import {
  gauge,
  heading,
  onlyOn,
  pressButton,
  section,
  tile,
  type Card,
  type Severity,
} from './cards.js';
import { compare, type LiveEntity } from './live-entities.js';

/** What the dashboard is built from: the live entities and what the config says of them. */
export interface DashboardInput {
  readonly entities: readonly LiveEntity[];
  /** The agent device's identifier, `outpost_<node>`. */
  readonly agentId: string;
  readonly title: string;
  /** The disk levels of a mount (config's `disks`), for a gauge's colours. */
  readonly levels: (mount: string) => Severity;
  /** The mount a disk's used-% entity reads, when its retained state says it. */
  readonly mountOf?: (e: LiveEntity) => string | undefined;
  /** Only these host devices (ids); all when absent. */
  readonly hosts?: ReadonlySet<string>;
}

/** A Home Assistant dashboard: one sections view. */
export interface Dashboard {
  title: string;
  views: [Record<string, unknown>];
}

/** Sections side by side on a wide screen; a phone shows one. */
const MAX_COLUMNS = 4;

/**
 * The dashboard (HA's sections view): the agent's own section first (its link, the
 * watchdog's verdict, open problems, approvals), then one per host by name, then the Home
 * Assistant bridge and Zigbee2MQTT when they are there. Pure: the same entities give the
 * same dashboard, card for card.
 */
export function buildDashboard(input: DashboardInput): Dashboard {
  const agent = input.entities.filter((e) => e.device.id === input.agentId);
  const hosts = groupHosts(input);
  const sections: Card[] = [];
  const agentCards = agentSection(agent, input.entities);
  if (agentCards.length > 0) sections.push(section(agentCards));
  for (const host of hosts) sections.push(section(hostSection(host, input)));
  for (const [domain, title, icon] of BRIDGES) {
    // On the service's own device (`outpost_<node>_service_<domain>`); an older agent kept
    // them on its own device.
    const service = `${serviceScope(input)}${domain}`;
    const mine = input.entities.filter(
      (e) =>
        e.device.id === service ||
        (e.device.id === input.agentId && e.local.startsWith(`${domain}_`)),
    );
    if (mine.length > 0) sections.push(section(bridgeSection(mine, title, icon)));
  }
  const view = {
    type: 'sections',
    title: input.title,
    path: 'outpost',
    icon: 'mdi:server-network',
    max_columns: MAX_COLUMNS,
    sections,
  };
  return { title: input.title, views: [view] };
}

const BRIDGES: readonly (readonly [string, string, string])[] = [
  ['home_assistant', 'Home Assistant', 'mdi:home-assistant'],
  ['zigbee2mqtt', 'Zigbee2MQTT', 'mdi:zigbee'],
];

interface Host {
  readonly name: string;
  readonly entities: readonly LiveEntity[];
}

/** The identifier prefix of this node's service devices (discovery/ids.ts). */
function serviceScope(input: DashboardInput): string {
  return `${input.agentId}_service_`;
}

/** Every host device of this node (`outpost_<node>_<host>`), by name (case aside) then id. */
function groupHosts(input: DashboardInput): Host[] {
  const byId = new Map<string, LiveEntity[]>();
  for (const e of input.entities) {
    if (!e.device.id.startsWith(`${input.agentId}_`)) continue;
    if (e.device.id.startsWith(serviceScope(input))) continue;
    if (input.hosts && !input.hosts.has(e.device.id)) continue;
    const list = byId.get(e.device.id) ?? [];
    list.push(e);
    byId.set(e.device.id, list);
  }
  return [...byId]
    .map(([id, entities]) => ({ id, name: entities[0]!.device.name, entities }))
    .sort(
      (a, b) =>
        compare(a.name.toLowerCase(), b.name.toLowerCase()) ||
        compare(a.name, b.name) ||
        compare(a.id, b.id),
    );
}

/** `<domain>_<subject>_<key>` of a local id: the subject, when domain and key match. */
function subjectOf(e: LiveEntity, domain: string, key: string): string | undefined {
  const m = e.local.startsWith(`${domain}_`) && e.local.endsWith(`_${key}`);
  if (!m || e.local.length <= domain.length + key.length + 2) return undefined;
  return e.local.slice(domain.length + 1, e.local.length - key.length - 1);
}

function find(list: readonly LiveEntity[], local: string): LiveEntity | undefined {
  return list.find((e) => e.local === local);
}

/** Entities of one domain and key, each with its subject, by subject. */
function each(
  list: readonly LiveEntity[],
  platform: string,
  domain: string,
  key: string,
): { subject: string; e: LiveEntity }[] {
  return list
    .filter((e) => e.platform === platform)
    .map((e) => ({ subject: subjectOf(e, domain, key), e }))
    .filter((x): x is { subject: string; e: LiveEntity } => x.subject !== undefined)
    .sort((a, b) => compare(a.subject, b.subject));
}

/** An entity's name without its last word(s): `web state` → `web`. */
function label(e: LiveEntity, suffix: string): string {
  return e.name.endsWith(suffix) ? e.name.slice(0, -suffix.length) : e.name;
}

function agentSection(agent: readonly LiveEntity[], all: readonly LiveEntity[]): Card[] {
  if (agent.length === 0) return [];
  const cards: Card[] = [heading(agent[0]!.device.name, 'mdi:shield-check')];
  const tiles: [string, string][] = [
    ['agent_connectivity', 'Agent'],
    ['watchdog_problem', 'Watchdog'],
    ['agent_alerts', 'Last alert'],
    ['uplink_connected', 'Uplink'],
    ['uplink_backlog', 'Uplink backlog'],
  ];
  for (const [local, name] of tiles) {
    const e = find(agent, local);
    if (e) cards.push(tile(e.entityId, name));
  }
  const problems = all
    .filter((e) => e.platform === 'binary_sensor' && e.deviceClass === 'problem')
    .map((e) => e.entityId);
  if (problems.length > 0) cards.push(onlyOn(problems, 'Open problems'));
  cards.push(...approvalCards(agent));
  cards.push(...backupCards(agent));
  return cards;
}

/** The approval entities whose ids never change (discovery/entities/remediation.ts). */
function approvalCards(agent: readonly LiveEntity[]): Card[] {
  const pending = find(agent, 'remediation_pending');
  const selected = find(agent, 'remediation_selected');
  const cards: Card[] = [];
  if (pending) cards.push(tile(pending.entityId, 'Pending actions'));
  if (selected) cards.push(tile(selected.entityId, 'Pending action', pending ? 6 : 12));
  for (const [key, name, icon, confirm] of [
    [
      'approve_oldest',
      'Approve oldest',
      'mdi:check-decagram',
      'Approve the oldest pending action?',
    ],
    ['reject_oldest', 'Reject oldest', 'mdi:close-octagon', 'Reject the oldest pending action?'],
    ['approve_selected', 'Approve', 'mdi:check-decagram', 'Approve the selected action?'],
    ['reject_selected', 'Reject', 'mdi:close-octagon', 'Reject the selected action?'],
  ] as const) {
    const e = find(agent, `remediation_${key}`);
    if (e?.platform === 'button') cards.push(pressButton(e.entityId, name, icon, confirm));
  }
  return cards.length > 0 ? [heading('Approvals', 'mdi:account-clock', 'subtitle'), ...cards] : [];
}

function hostSection(host: Host, input: DashboardInput): Card[] {
  const list = host.entities;
  const cards: Card[] = [heading(host.name, 'mdi:server')];
  for (const [local, name] of [
    ['host_reachable', 'Reachable'],
    ['host_critical_container_down', 'Critical container down'],
    ['host_maintenance', 'Maintenance'],
    ['host_silence', 'Alerts silenced'],
  ] as const) {
    const e = find(list, local);
    if (e) cards.push(tile(e.entityId, name));
  }
  cards.push(...containerCards(list));
  cards.push(...diskCards(list, input));
  cards.push(...backupCards(list));
  const smart = each(list, 'binary_sensor', 'smart', 'problem');
  if (smart.length > 0) {
    cards.push(heading('Drives', 'mdi:harddisk', 'subtitle'));
    for (const { e } of smart) cards.push(tile(e.entityId, label(e, ' problem')));
  }
  return cards;
}

/** A tile per container (its state), with its restart button beside it. */
function containerCards(list: readonly LiveEntity[]): Card[] {
  const states = each(list, 'sensor', 'container', 'state');
  if (states.length === 0) return [];
  const restarts = new Map(each(list, 'button', 'container', 'restart').map((x) => [x.subject, x]));
  const cards: Card[] = [heading('Containers', 'mdi:docker', 'subtitle')];
  for (const { subject, e } of states) {
    const name = label(e, ' state');
    const restart = restarts.get(subject);
    cards.push(tile(e.entityId, name, restart ? 9 : 12));
    if (restart) {
      cards.push(pressButton(restart.e.entityId, 'Restart', 'mdi:restart', `Restart ${name}?`));
    }
  }
  return cards;
}

/** A gauge per mount (by mount point), coloured by its warn and critical levels, and its clean-up button. */
function diskCards(list: readonly LiveEntity[], input: DashboardInput): Card[] {
  const used = each(list, 'sensor', 'disk', 'used_pct');
  if (used.length === 0) return [];
  const cleanups = new Map(each(list, 'button', 'disk', 'cleanup').map((x) => [x.subject, x]));
  const cards: Card[] = [heading('Disks', 'mdi:harddisk', 'subtitle')];
  const mounts = used
    .map((x) => ({ ...x, mount: input.mountOf?.(x.e) ?? label(x.e, ' used') }))
    .sort((a, b) => compare(a.mount, b.mount));
  for (const { subject, e, mount } of mounts) {
    cards.push(gauge(e.entityId, mount, input.levels(mount)));
    const cleanup = cleanups.get(subject);
    if (cleanup) {
      const text = `Run the clean-up jobs for ${mount}?`;
      cards.push(pressButton(cleanup.e.entityId, `Clean up ${mount}`, 'mdi:broom', text, 6));
    }
  }
  return cards;
}

/** Per backup job, its status and its last success (a timestamp tile reads "3 hours ago"). */
function backupCards(list: readonly LiveEntity[]): Card[] {
  const status = each(list, 'sensor', 'backup', 'status');
  if (status.length === 0) return [];
  const last = new Map(each(list, 'sensor', 'backup', 'last_success').map((x) => [x.subject, x]));
  const cards: Card[] = [heading('Backups', 'mdi:backup-restore', 'subtitle')];
  for (const { subject, e } of status) {
    const name = label(e, ' status').replace(/^Backup /, '');
    cards.push(tile(e.entityId, name));
    const l = last.get(subject);
    if (l) cards.push(tile(l.e.entityId, 'Last success'));
  }
  return cards;
}

function bridgeSection(list: readonly LiveEntity[], title: string, icon: string): Card[] {
  return [
    heading(title, icon),
    ...[...list]
      .sort((a, b) => compare(a.uniqueId, b.uniqueId))
      .map((e) => tile(e.entityId, e.name)),
  ];
}
