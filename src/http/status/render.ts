import { SCRIPT, STYLE } from './assets.js';

// Built outside the templates, so a formatter can never change what the CSP hashes cover.
const STYLE_TAG = new Html(`<style>${STYLE}</style>`);
const SCRIPT_TAG = new Html(`<script>${SCRIPT}</script>`);
import { Html, html } from './html.js';
import type {
  BackupRow,
  ContainerRow,
  DiskRow,
  HostRow,
  IncidentView,
  Missing,
  PendingView,
  Section,
  StatusSnapshot,
  StoreView,
  WatchdogView,
} from './snapshot.js';

/** Who is looking, and what the forms carry. */
export interface Viewer {
  /** `web:<name>`'s name; undefined on an open (loopback, no users) page. */
  readonly user?: string;
  /** The session's CSRF token, put in every form. */
  readonly csrf?: string;
}

export interface Notice {
  readonly ok: boolean;
  readonly text: string;
}

/** The whole page: header, the live part (`main`) and the script that keeps it live. */
export function renderPage(s: StatusSnapshot, v: Viewer, notice?: Notice): string {
  const who = v.user ? html` · signed in as web:${v.user}` : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>outpost · ${s.node}</title>
        ${STYLE_TAG}
      </head>
      <body>
        <header>
          <h1>outpost · ${s.node}</h1>
          <span class="meta">status at ${time(s.at)}${who} · <span id="live">static</span></span>
        </header>
        ${notice ? html`<p class="notice ${notice.ok ? 'ok' : 'bad'}" role="status">${notice.text}</p>` : ''}
        <main>${renderMain(s, v)}</main>
        ${SCRIPT_TAG}
      </body>
    </html> `.text;
}

/** The part that live updates replace. */
export function renderMain(s: StatusSnapshot, v: Viewer): Html {
  return html`${pending(s.pending, v)}${incidents(s.incidents)}${hosts(s.hosts, s.mqtt)}
  ${containers(s.containers)}${disks(s.disks)}${watchdog(s.watchdog)}${backups(s.backups)}${store(s.store)}`;
}

function pending(list: readonly PendingView[], v: Viewer): Html {
  if (list.length === 0) return new Html('');
  const csrf = v.csrf ? html`<input type="hidden" name="csrf" value="${v.csrf}" />` : '';
  const rows = list.map(
    (a) =>
      html`<tr data-action="${a.id}">
        <td>
          <strong>${a.action.replace(/_/g, ' ')}</strong> ${a.target}
          <div class="muted">
            ${a.reason ?? a.decision.message}${a.requested_by ? html` · asked by ${a.requested_by}` : ''}${a.expires_at ? html` · expires ${time(a.expires_at)}` : ''}
          </div>
          <div class="actions">
            <form method="post" action="actions/${a.id}/approve">
              ${csrf}<button class="approve" type="submit">Approve</button>
            </form>
            <form method="post" action="actions/${a.id}/reject">
              ${csrf}<button class="reject" type="submit">Reject</button>
            </form>
          </div>
        </td>
      </tr>`,
  );
  return card(
    'Waiting for approval',
    'pending',
    html`<table>
      <tbody>
        ${rows}
      </tbody>
    </table>`,
    true,
  );
}

function incidents(list: readonly IncidentView[]): Html {
  const rows = list.map(
    (i) =>
      html`<tr data-incident="${i.subject}">
        <td>${badge(i.severity, severityClass(i.severity))}</td>
        <td>
          ${i.subject}
          <div class="muted">${i.kind}: ${Object.keys(i.signals).join(', ')}</div>
        </td>
        <td>${time(new Date(i.since).toISOString())}</td>
      </tr>`,
  );
  return card('Open incidents', 'incidents', table(['Severity', 'Subject', 'Since'], rows, 'None'));
}

function hosts(list: readonly HostRow[], mqtt: boolean): Html {
  const rows = list.map(
    (h) =>
      html`<tr data-host="${h.host}" data-status="${h.status}">
        <td>${h.host}</td>
        <td>${badge(h.status, statusClass(h.status))}</td>
        <td>${h.message ?? ''}</td>
      </tr>`,
  );
  const link = html`<p class="muted">
    MQTT link ${badge(mqtt ? 'connected' : 'disconnected', mqtt ? 'ok' : 'bad')}
  </p>`;
  return card('Hosts', 'hosts', html`${link}${table(['Host', 'Reachable', ''], rows, 'None')}`);
}

function containers(section: Section<ContainerRow>): Html {
  if (missing(section)) return off('Containers', 'containers', section);
  const rows = section.map(
    (c) =>
      html`<tr data-container="${c.host}/${c.name}" data-status="${c.status}">
        <td>${c.host}</td>
        <td>${c.name}${c.critical ? html` <span class="muted">critical</span>` : ''}</td>
        <td>${badge(c.status, statusClass(c.status))}</td>
        <td>${c.message}</td>
      </tr>`,
  );
  const head = ['Host', 'Container', 'Status', 'State, health'];
  return card('Containers', 'containers', table(head, rows, 'No containers seen'), true);
}

function disks(section: Section<DiskRow>): Html {
  if (missing(section)) return off('Disks', 'disks', section);
  const rows = section.map((d) => {
    const used =
      d.used_pct === null
        ? ''
        : html`<meter
              min="0"
              max="100"
              low="80"
              high="90"
              optimum="0"
              value="${d.used_pct}"
            ></meter>
            ${Math.round(d.used_pct)}%`;
    const note = d.error ?? (d.filling ? `filling: full in ${duration(d.time_to_full_s)}` : '');
    return html`<tr data-disk="${d.host}:${d.mount}">
      <td>${d.host}</td>
      <td>${d.mount}</td>
      <td>${badge(d.level, levelClass(d.level))}</td>
      <td>${used}</td>
      <td>${bytes(d.free)}</td>
      <td>${note}</td>
    </tr>`;
  });
  const head = ['Host', 'Mount', 'Level', 'Used', 'Free', ''];
  return card('Disks', 'disks', table(head, rows, 'No mounts read yet'));
}

function watchdog(w: WatchdogView | Missing): Html {
  if ('missing' in w) return off('Watchdog', 'watchdog', w);
  const verdict = html`<p>
    ${badge(w.healthy ? 'healthy' : 'unhealthy', w.healthy ? 'ok' : 'bad')} uplink
    ${badge(w.uplink ? 'up' : 'down', w.uplink ? 'ok' : 'warn')}
  </p>`;
  const rows = w.checks.map(
    (c) =>
      html`<tr data-check="${c.name}">
        <td>${c.name}</td>
        <td>${c.class}</td>
        <td>
          ${badge(c.down ? 'down' : c.ok ? 'up' : 'failing', c.down ? 'bad' : c.ok ? 'ok' : 'warn')}
        </td>
        <td>${c.message}</td>
      </tr>`,
  );
  return card(
    'Watchdog',
    'watchdog',
    html`${verdict}${table(['Check', 'Class', 'Status', ''], rows, 'No checks')}`,
  );
}

function backups(section: Section<BackupRow>): Html {
  if (missing(section)) return off('Backups', 'backups', section);
  const rows = section.map(
    (b) =>
      html`<tr data-backup="${b.job}">
        <td>${b.job}</td>
        <td>${b.host}</td>
        <td>${badge(b.status, b.problem ? 'bad' : 'ok')}</td>
        <td>${b.last_success ? time(b.last_success) : 'never'}</td>
        <td>${b.message ?? ''}</td>
      </tr>`,
  );
  const head = ['Job', 'Host', 'Status', 'Last success', ''];
  return card('Backups', 'backups', table(head, rows, 'No jobs'));
}

function store(s: StoreView | Missing): Html {
  if ('missing' in s) return off('Event store', 'store', s);
  const rows = s.backlog.map(
    (b) =>
      html`<tr data-sink="${b.sink}">
        <td>${b.sink}</td>
        <td>${b.count}</td>
      </tr>`,
  );
  const facts = html`<p>
    ${badge(s.writable ? 'writable' : 'refusing writes', s.writable ? 'ok' : 'bad')} ${s.count}
    events, ${bytes(s.bytes)} of ${bytes(s.maxBytes)} · dropped
    <strong data-dropped="${s.dropped}">${s.dropped}</strong>
    ${s.lastError ? html`<br /><span class="bad">${s.lastError}</span>` : ''}
  </p>`;
  return card(
    'Event store',
    'store',
    html`${facts}${table(['Sink', 'Backlog'], rows, 'No sinks')}`,
  );
}

function card(title: string, id: string, body: Html, wide = false): Html {
  return html`<section id="${id}" ${new Html(wide ? ' class="wide"' : '')}>
    <h2>${title}</h2>
    ${body}
  </section> `;
}

function off(title: string, id: string, m: Missing): Html {
  const text = m.missing === 'off' ? 'Not configured' : 'Unavailable: its report could not be read';
  return card(title, id, html`<p class="empty">${text}</p>`);
}

function table(head: readonly string[], rows: readonly Html[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  const th = head.map((h) => html`<th>${h}</th>`);
  return html`<div class="scroll">
    <table>
      <thead>
        <tr>
          ${th}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

function badge(text: string, cls: string): Html {
  return html`<span class="badge ${cls}">${text}</span>`;
}

function missing<T>(s: Section<T>): s is Missing {
  return 'missing' in s;
}

function statusClass(s: string): string {
  return s === 'ok' ? 'ok' : s === 'down' || s === 'unreachable' ? 'bad' : 'muted';
}
function levelClass(l: string): string {
  return l === 'ok' ? 'ok' : l === 'critical' || l === 'full' ? 'bad' : 'warn';
}
function severityClass(s: string): string {
  return s === 'critical' || s === 'error' ? 'bad' : s === 'warning' ? 'warn' : 'muted';
}

function time(iso: string): Html {
  const text = iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  return html`<time datetime="${iso}">${text}</time>`;
}

function bytes(n: number | null): string {
  if (n === null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

function duration(s: number | null): string {
  if (s === null) return 'unknown';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
