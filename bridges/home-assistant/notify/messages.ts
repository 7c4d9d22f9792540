import { globMatches } from '../../../src/commands/policy/rules.js';
import { severityRank, type StoredEvent } from '../../../src/core/events.js';
import type { NotifyRoute } from '../config.js';
import { approvalButtons, type ButtonStyle } from './buttons.js';

/**
 * What goes out through Home Assistant's notify services (issue 18, point 3), as a pure
 * function of the events read from the store: routed by severity and subject, one
 * message per step of an incident, bursts grouped ("3 containers down on nas: …"), stale
 * ones summarised, and a pending action's message with approve / reject buttons.
 */

/** One `notify.<service>` call. */
export interface OutMessage {
  /** `notify.telegram_ops`. */
  readonly service: string;
  readonly title: string;
  readonly message: string;
  /** The service's `data` (buttons). */
  readonly data?: Record<string, unknown>;
  /** Unique per route and events: a message already sent is not sent again on a retry. */
  readonly key: string;
  /** The store seqs of the events it carries: the cursor passes them once it is sent. */
  readonly seqs: readonly number[];
}

export interface ComposeOptions {
  readonly routes: readonly NotifyRoute[];
  readonly now: number;
  /** Events older than this at sending time are summarised, not sent one by one. */
  readonly staleAfterMs: number;
}

interface Alert {
  readonly e: StoredEvent;
  readonly ts: number;
  readonly title: string;
  readonly message: string;
}

/** Events with words to say, meant for a person (`data.notify: false` is not). */
export function notifiable(e: StoredEvent): boolean {
  const d = e.data;
  return typeof d.title === 'string' && typeof d.message === 'string' && d.notify !== false;
}

/** Every message for these events, route by route, in the order they should go. */
export function compose(events: readonly StoredEvent[], o: ComposeOptions): OutMessage[] {
  const alerts = dedupe(events.filter(notifiable)).map((e): Alert => ({
    e,
    ts: Date.parse(e.ts),
    title: e.data.title as string,
    message: e.data.message as string,
  }));
  return o.routes.flatMap((route) => {
    const mine = alerts.filter((a) => routed(route, a.e));
    const pending = mine.filter((a) => a.e.type === 'remediation_pending');
    const others = mine.filter((a) => a.e.type !== 'remediation_pending');
    const stale = others.filter((a) => o.now - a.ts > o.staleAfterMs);
    const fresh = others.filter((a) => o.now - a.ts <= o.staleAfterMs);
    return [
      ...(stale.length > 0 ? [summary(route, stale)] : []),
      ...groups(fresh).map((g) => grouped(route, g)),
      // Each pending action on its own: its buttons act on it alone.
      ...pending.map((a) => withButtons(route, a)),
    ];
  });
}

/**
 * Whether a route takes an event: its subject matches, and its severity reaches the
 * route's, or it closes an incident (a recovery is info, but whoever heard of the outage
 * must hear of its end).
 */
export function routed(route: NotifyRoute, e: StoredEvent): boolean {
  if (!route.subjects.some((g) => globMatches(g, e.subject))) return false;
  if (severityRank(e.severity) >= severityRank(route.severity)) return true;
  return incidentOf(e)?.status === 'closed';
}

/** One message per step of an incident: a second event of the same step says nothing new. */
function dedupe(events: readonly StoredEvent[]): StoredEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const i = incidentOf(e);
    if (!i || e.type.startsWith('remediation_')) return true;
    const step = `${i.id}/${i.status}/${i.alerts}`;
    if (seen.has(step)) return false;
    seen.add(step);
    return true;
  });
}

function incidentOf(e: StoredEvent): { id: string; status: string; alerts: number } | undefined {
  const i = e.data.incident;
  if (!i || typeof i !== 'object') return undefined;
  const { id, status, alerts } = i as Record<string, unknown>;
  if (typeof id !== 'string' || typeof status !== 'string') return undefined;
  return { id, status, alerts: typeof alerts === 'number' ? alerts : 0 };
}

/** Events of one type on one host, in order: a burst of them is one message. */
function groups(alerts: readonly Alert[]): Alert[][] {
  const by = new Map<string, Alert[]>();
  for (const a of alerts) {
    const k = `${a.e.type}\u0000${hostOf(a.e)}`;
    const list = by.get(k) ?? [];
    list.push(a);
    by.set(k, list);
  }
  return [...by.values()];
}

function grouped(route: NotifyRoute, g: readonly Alert[]): OutMessage {
  const first = g[0]!;
  if (g.length === 1) {
    return {
      service: route.service,
      title: first.title,
      message: first.message,
      key: keyOf(route, g),
      seqs: seqsOf(g),
    };
  }
  const host = hostOf(first.e);
  const title = `${g.length} ${GROUP_WORDS[first.e.type] ?? `alerts (${first.e.type})`}${host ? ` on ${host}` : ''}`;
  const names = g.map((a) => nameOf(a.e)).join(', ');
  const lines = g.map((a) => `• ${a.message}`).join('\n');
  return {
    service: route.service,
    title,
    message: `${title}: ${names}\n${lines}`,
    key: keyOf(route, g),
    seqs: seqsOf(g),
  };
}

const MAX_SUMMARY_LINES = 15;

/** Alerts that waited too long (HA was unreachable): one message, the newest lines first. */
function summary(route: NotifyRoute, stale: readonly Alert[]): OutMessage {
  const from = clock(stale[0]!.ts);
  const to = clock(stale[stale.length - 1]!.ts);
  const title = `${stale.length} alert${stale.length === 1 ? '' : 's'} while Home Assistant was unreachable`;
  const shown = stale.slice(-MAX_SUMMARY_LINES).map((a) => `• ${clock(a.ts)} ${a.title}`);
  const more = stale.length - shown.length;
  const message = [
    `Between ${from} and ${to} UTC:`,
    ...(more > 0 ? [`• … ${more} earlier`] : []),
    ...shown,
  ].join('\n');
  const key = `${keyOf(route, stale)}/summary`;
  return { service: route.service, title, message, key, seqs: seqsOf(stale) };
}

function withButtons(route: NotifyRoute, a: Alert): OutMessage {
  const actionId = typeof a.e.data.action_id === 'string' ? a.e.data.action_id : undefined;
  const style: ButtonStyle = route.buttons ?? defaultButtons(route.service);
  const data = actionId ? approvalButtons(style, actionId) : undefined;
  // Telegram carries at most 64 bytes of callback data: a longer id gets no buttons.
  const hint = actionId && !data && style !== 'none' ? ' (approve it in Home Assistant)' : '';
  return {
    service: route.service,
    title: a.title,
    message: a.message + hint,
    ...(data ? { data } : {}),
    key: keyOf(route, [a]),
    seqs: [a.e.seq],
  };
}

/** Telegram services get a keyboard, the companion app its actions, others none. */
export function defaultButtons(service: string): ButtonStyle {
  if (service.startsWith('notify.mobile_app_')) return 'mobile_app';
  if (service.includes('telegram')) return 'telegram';
  return 'none';
}

const GROUP_WORDS: Readonly<Record<string, string>> = {
  container_down: 'containers down',
  container_recovered: 'containers back up',
  container_unhealthy: 'containers unhealthy',
  container_flapping: 'containers flapping',
  host_unreachable: 'hosts unreachable',
  host_reachable: 'hosts reachable again',
  disk_pressure: 'disks filling up',
  disk_recovered: 'disks with room again',
  backup_failed: 'backups failed',
  remediation_failed: 'actions failed',
};

function hostOf(e: StoredEvent): string {
  if (typeof e.data.host === 'string') return e.data.host;
  const slash = e.subject.indexOf('/');
  return slash < 0 ? '' : e.subject.slice(0, slash);
}

function nameOf(e: StoredEvent): string {
  if (typeof e.data.name === 'string') return e.data.name;
  const slash = e.subject.indexOf('/');
  return slash < 0 ? e.subject : e.subject.slice(slash + 1);
}

function seqsOf(alerts: readonly Alert[]): number[] {
  return alerts.map((a) => a.e.seq);
}

function keyOf(route: NotifyRoute, alerts: readonly Alert[]): string {
  return `${route.service}:${alerts.map((a) => a.e.id).join(',')}`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
