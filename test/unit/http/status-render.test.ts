import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CSP } from '../../../src/http/status/assets.js';
import { escapeHtml, html, Html } from '../../../src/http/status/html.js';
import { renderMain, renderPage } from '../../../src/http/status/render.js';
import type { StatusSnapshot } from '../../../src/http/status/snapshot.js';

const EVIL = `<img src=x onerror="alert('x')">&\``;

/** A snapshot whose every name came from outside, and is hostile. */
function hostile(): StatusSnapshot {
  return {
    node: `node${EVIL}`,
    at: '2026-12-07T03:00:00.000Z',
    mqtt: true,
    hosts: [{ host: `h${EVIL}`, status: 'ok', message: `m${EVIL}` }],
    containers: [
      {
        host: 'local',
        name: `c${EVIL}`,
        status: 'down',
        message: `exited ${EVIL}`,
        critical: true,
      },
    ],
    disks: [
      {
        host: 'local',
        mount: `/mnt/${EVIL}`,
        level: 'warn',
        used_pct: 91.5,
        free: 1024 ** 3,
        filling: false,
        time_to_full_s: null,
        error: null,
      },
    ],
    watchdog: {
      healthy: false,
      uplink: true,
      checks: [{ name: `chk${EVIL}`, ok: false, down: true, class: 'local', message: EVIL }],
    },
    backups: [
      {
        job: `j${EVIL}`,
        host: 'local',
        status: 'failed',
        problem: true,
        last_success: null,
        message: EVIL,
      },
    ],
    incidents: [
      {
        subject: `local/c${EVIL}`,
        kind: 'container',
        severity: 'critical',
        since: Date.parse('2026-12-07T02:00:00Z'),
        signals: { [`alert${EVIL}`]: 'critical' },
      },
    ],
    store: {
      count: 3,
      bytes: 2048,
      maxBytes: 1024 ** 2,
      dropped: 0,
      writable: false,
      lastError: `disk full ${EVIL}`,
      backlog: [{ sink: `s${EVIL}`, count: 2 }],
    },
    pending: [
      {
        id: 'A1_b-2',
        action: 'restart_container',
        target: `local/c${EVIL}`,
        requested_by: `ops${EVIL}`,
        reason: `because ${EVIL}`,
        decision: { message: 'approval required' },
        created_at: '2026-12-07T03:00:00.000Z',
        expires_at: '2026-12-07T03:30:00.000Z',
      },
    ],
  };
}

describe('escaping', () => {
  it('escapes the five HTML characters and the backtick', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
  });

  it('escapes interpolated values but keeps Html fragments and lists of them', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${'<s>'}${inner}${[inner, new Html('<br>')]}</p>`.text).toBe(
      '<p>&lt;s&gt;<b>&lt;i&gt;</b><b>&lt;i&gt;</b><br></p>',
    );
    expect(html`${undefined}${null}${false}${0}`.text).toBe('0');
  });
});

describe('the status page', () => {
  it('shows every outside name as text: no element, attribute or quote of its own', () => {
    const page = renderPage(hostile(), { user: 'alice', csrf: 'tok' });
    expect(page).not.toContain('<img');
    expect(page).not.toContain(`onerror="`);
    expect(
      page.match(/&lt;img src=x onerror=&quot;alert\(&#39;x&#39;\)&quot;&gt;&amp;&#96;/g)!.length,
    ).toBeGreaterThanOrEqual(15);
    // The only script on the page is its own.
    expect(page.match(/<script/g)).toHaveLength(1);
  });

  it('shows each part of the state', () => {
    const main = renderMain(hostile(), {}).text;
    for (const id of [
      'pending',
      'incidents',
      'hosts',
      'containers',
      'disks',
      'watchdog',
      'backups',
      'store',
    ]) {
      expect(main).toContain(`<section id="${id}"`);
    }
    expect(main).toContain('data-status="down"');
    expect(main).toContain('92%');
    expect(main).toContain('1.0 GiB');
    expect(main).toContain('refusing writes');
    expect(main).toContain('never');
  });

  it('puts approve and reject forms, each with the session CSRF token, on a pending action', () => {
    const main = renderMain(hostile(), { user: 'alice', csrf: 'c"srf' }).text;
    expect(main).toMatch(/<form method="post" action="actions\/A1_b-2\/approve">/);
    expect(main).toMatch(/<form method="post" action="actions\/A1_b-2\/reject">/);
    expect(main.match(/<input type="hidden" name="csrf" value="c&quot;srf" \/?>/g)).toHaveLength(2);
  });

  it('says which parts are off or could not be read', () => {
    const main = renderMain(
      { ...hostile(), disks: { missing: 'off' }, backups: { missing: 'unavailable' }, pending: [] },
      {},
    ).text;
    expect(main).toMatch(
      /<section id="disks"[^>]*>\s*<h2>Disks<\/h2>\s*<p class="empty">Not configured/,
    );
    expect(main).toMatch(
      /<section id="backups"[^>]*>\s*<h2>Backups<\/h2>\s*<p class="empty">Unavailable/,
    );
    expect(main).not.toContain('id="pending"');
  });

  it('allows exactly the style and script the page holds, by their hashes', () => {
    const page = renderPage(hostile(), {});
    const hashOf = (tag: string) => {
      const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page)![1]!;
      return `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
    };
    expect(CSP).toContain(`style-src ${hashOf('style')};`);
    expect(CSP).toContain(`script-src ${hashOf('script')};`);
  });

  it('allows only its own style and script, and no framing', () => {
    expect(CSP).toContain("frame-ancestors 'none'");
    expect(CSP).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(CSP).not.toContain('unsafe-inline');
  });
});
