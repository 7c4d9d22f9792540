import { createHash } from 'node:crypto';

/**
 * The page's style and script, inline and small (no build step for the browser). The
 * Content-Security-Policy allows exactly these two by their hashes: nothing injected into
 * the page could run or restyle it, even if an escape were missed.
 */

export const STYLE = `
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--muted:#6e7781;--line:#d0d7de;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--ok:#3fb950;--bad:#f85149;--warn:#d29922;--muted:#8b949e;--line:#30363d;--card:#161b22}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;padding:.75rem 1rem;border-bottom:1px solid var(--line)}
header h1{font-size:1.15rem;margin:0}
header .meta{color:var(--muted);font-size:.85rem}
main{display:grid;gap:1rem;padding:1rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,26rem),1fr))}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem;min-width:0}
section.wide{grid-column:1/-1}
h2{font-size:1rem;margin:0 0 .5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .4rem;border-top:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{font-weight:600;font-size:.8rem;color:var(--muted);border-top:0}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.8rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.muted{color:var(--muted)}
meter{width:5rem;vertical-align:middle}
form{display:inline}
button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);cursor:pointer;min-height:2.25rem}
button.approve{background:var(--ok);color:#fff;border-color:var(--ok)}
button.reject{background:transparent;color:var(--bad);border-color:var(--bad)}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.35rem}
.notice{margin:1rem 1rem 0;padding:.5rem .75rem;border-radius:6px;border:1px solid currentColor}
.empty{color:var(--muted);margin:0}
`;

export const SCRIPT = `
(function () {
  var main = document.querySelector('main');
  var live = document.getElementById('live');
  if (!main || !live || !window.EventSource) return;
  var es = new EventSource('events');
  es.addEventListener('state', function (e) {
    main.innerHTML = JSON.parse(e.data).html;
    live.textContent = 'live, updated ' + new Date().toLocaleTimeString();
  });
  es.onopen = function () { live.textContent = 'live'; };
  es.onerror = function () { live.textContent = 'reconnecting…'; };
})();
`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** The page's policy: its own style and script, forms and events to itself, no framing. */
export const CSP = [
  "default-src 'none'",
  `style-src ${hash(STYLE)}`,
  `script-src ${hash(SCRIPT)}`,
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers on every page with state: never cached, never framed, never sniffed. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Nothing of the page's address travels to another site in a Referer. Not `no-referrer`:
  // with it Chromium sends the page's own forms with `Origin: null`, which the CSRF check
  // refuses. The sign-in redirect (the only address with a token) is `no-referrer`.
  'referrer-policy': 'same-origin',
} as const;
