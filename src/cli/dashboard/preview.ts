import type { Dashboard } from './builder.js';
import type { Card } from './cards.js';
import type { PreviewState } from './preview-states.js';
import { previewStyle } from './preview-style.js';

/**
 * outpost's own preview of a dashboard: a static HTML page that lays the sections out as
 * HA's sections view does (sections side by side, each a 12-column grid of 56 px rows) and
 * draws the cards it uses (heading, tile, gauge, button, entity filter) with the current
 * states. It is not Home Assistant's rendering, and says so at the top: HA's frontend cannot
 * run without HA, and the README needs a picture of what the YAML gives.
 */
export function previewHtml(board: Dashboard, states: ReadonlyMap<string, PreviewState>): string {
  const view = board.views[0];
  const sections = (view.sections as Card[]).map((s) => renderSection(s, states)).join('\n');
  const maxColumns = typeof view.max_columns === 'number' ? view.max_columns : 4;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(board.title)} — outpost preview</title>
<style>${previewStyle(maxColumns)}</style></head>
<body>
<header><h1>${esc(board.title)}</h1>
<p class="note">outpost's preview of the YAML from <code>outpost dashboard</code>, drawn with the live states; Home Assistant draws the real one.</p></header>
<main class="sections">
${sections}
</main></body></html>
`;
}

function renderSection(s: Card, states: ReadonlyMap<string, PreviewState>): string {
  const cards = (s.cards as Card[]).map((c) => renderCard(c, states)).join('\n');
  return `<section class="grid">\n${cards}\n</section>`;
}

function renderCard(c: Card, states: ReadonlyMap<string, PreviewState>): string {
  const grid = (c.grid_options ?? {}) as { columns?: unknown; rows?: unknown };
  const columns = typeof grid.columns === 'number' ? grid.columns : 12;
  const rows = typeof grid.rows === 'number' ? grid.rows : undefined;
  const style = `grid-column: span ${columns};${rows ? ` height: ${rows * 56 + (rows - 1) * 8}px;` : ''}`;
  const entity = typeof c.entity === 'string' ? c.entity : '';
  const st = states.get(entity);
  switch (c.type) {
    case 'heading':
      return `<div class="heading ${String(c.heading_style)}" style="grid-column: 1 / -1">${esc(String(c.heading))}</div>`;
    case 'tile':
      return `<div class="card tile ${tone(st)}" data-entity="${esc(entity)}" style="${style}">
<span class="icon"></span><span class="info"><span class="name">${esc(String(c.name))}</span><span class="state">${esc(display(st))}</span></span></div>`;
    case 'gauge':
      return gaugeCard(c, st, style);
    case 'button':
      return `<div class="card button" data-entity="${esc(entity)}" style="${style}"><span class="glyph">${glyph(String(c.icon))}</span><span class="name">${esc(String(c.name))}</span></div>`;
    case 'entity-filter': {
      const list = (c.entities as string[]).filter((e) => states.get(e)?.state === 'on');
      const t = (c.card as { title?: unknown }).title;
      const title = typeof t === 'string' ? t : '';
      const rows = list
        .map((e) => `<li><span class="dot problem"></span>${esc(states.get(e)!.friendlyName)}</li>`)
        .join('');
      return `<div class="card entities" style="${style}"><div class="title">${esc(title)}</div><ul>${rows}</ul></div>`;
    }
    default:
      return `<div class="card" style="${style}">${esc(String(c.type))}</div>`;
  }
}

/** A half-circle gauge, coloured by the first severity band the value reaches, as HA does. */
function gaugeCard(c: Card, st: PreviewState | undefined, style: string): string {
  const value = Number(st?.state);
  const known = st !== undefined && st.state !== 'unknown' && Number.isFinite(value);
  const sev = c.severity as { green: number; yellow: number; red: number };
  const colour = !known
    ? 'none'
    : value >= sev.red
      ? 'red'
      : value >= sev.yellow
        ? 'yellow'
        : 'green';
  const pct = known ? Math.min(Math.max(value, 0), 100) / 100 : 0;
  // The arc runs from the left (0) over the top to the right (100).
  const angle = Math.PI * (1 - pct);
  const x = (50 + 40 * Math.cos(angle)).toFixed(2);
  const y = (50 - 40 * Math.sin(angle)).toFixed(2);
  const arc = pct > 0 ? `<path class="value ${colour}" d="M10 50 A40 40 0 0 1 ${x} ${y}"/>` : '';
  const text = known ? `${st.state} %` : 'unknown';
  return `<div class="card gauge" data-entity="${esc(String(c.entity))}" style="${style}">
<svg viewBox="0 0 100 58"><path class="track" d="M10 50 A40 40 0 0 1 90 50"/>${arc}
<text x="50" y="48">${esc(text)}</text></svg><div class="name">${esc(String(c.name))}</div></div>`;
}

/** How HA words a state: binary sensors by device class, timestamps relative. */
function display(st: PreviewState | undefined): string {
  if (!st) return 'not found';
  const s = st.state;
  if (s === 'unknown') return 'Unknown';
  if (st.platform === 'binary_sensor') {
    const words: Record<string, [string, string]> = {
      problem: ['Problem', 'OK'],
      connectivity: ['Connected', 'Disconnected'],
      running: ['Running', 'Not running'],
    };
    const w = words[st.deviceClass ?? ''] ?? ['On', 'Off'];
    return s === 'on' ? w[0] : w[1];
  }
  if (st.platform === 'switch') return s === 'on' ? 'On' : 'Off';
  if (st.deviceClass === 'timestamp') return relative(s);
  const word = s.replace(/_/g, ' ');
  const text = word.charAt(0).toUpperCase() + word.slice(1);
  return st.unit ? `${text} ${st.unit}` : text;
}

function relative(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 60) return 'Just now';
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** The tile's colour: good, bad, warning or idle. */
function tone(st: PreviewState | undefined): string {
  if (!st || st.state === 'unknown') return 'idle';
  const s = st.state;
  if (st.platform === 'binary_sensor' && st.deviceClass === 'problem') {
    return s === 'on' ? 'bad' : 'good';
  }
  if (['on', 'running', 'ok', 'healthy'].includes(s)) return 'good';
  if (['exited', 'dead', 'failed', 'critical', 'unhealthy', 'off'].includes(s)) return 'bad';
  if (['restarting', 'paused', 'warn', 'late', 'starting', 'never_run'].includes(s)) {
    return 'warn';
  }
  return 'idle';
}

const GLYPHS: Record<string, string> = {
  'mdi:restart': '&#x21bb;',
  'mdi:check-decagram': '&#x2713;',
  'mdi:close-octagon': '&#x2715;',
  'mdi:broom': '&#x2726;',
};

function glyph(icon: string): string {
  return GLYPHS[icon] ?? '&#x25cf;';
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
