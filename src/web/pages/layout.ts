// The frame every page shares: a header with the host and the four sections, a main region
// the client script refreshes in place, and the stylesheet and script the package ships
// (src/web/static/): no CDN, no framework, so the page works on a Pi with no internet. Pure.

export type PageId = 'overview' | 'live' | 'house' | 'history';

const NAV: Array<[PageId, string, string]> = [
  ['overview', '/', 'Overview'],
  ['live', '/live', 'Live frames'],
  ['house', '/house', 'The house'],
  ['history', '/history', 'History'],
];

/** HTML-escapes text for element content and double-quoted attributes. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A tagged template whose `${}` values are escaped unless wrapped in raw(). */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}
export const raw = (html: string): Raw => new Raw(html);

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Raw(out);
}

function piece(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(piece).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

export interface PageFrame {
  page: PageId;
  title: string;
  hostname: string;
  version: string;
  /** Seconds between the client script's refreshes of <main>; 0 = none. */
  refreshSec: number;
  /** Whether the write controls (token field) are shown. */
  writes: boolean;
}

export function layout(frame: PageFrame, main: Raw): string {
  const nav = NAV.map(([id, href, label]) => html`<li><a href="${href}"${raw(id === frame.page ? ' aria-current="page"' : '')}>${label}</a></li>`);
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${frame.title} · ${frame.hostname} · ampio-bridge</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body data-page="${frame.page}" data-refresh="${frame.refreshSec}" data-writes="${frame.writes ? '1' : '0'}">
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand"><strong>ampio-bridge</strong> <span>${frame.hostname}</span> <span class="dim">${frame.version}</span></p>
<nav aria-label="Sections"><ul>${nav}</ul></nav>
</header>
<main id="main" tabindex="-1">${main}</main>
${frame.writes ? raw(tokenForm()) : ''}
</body>
</html>`.html
  }\n`;
}

/** The write token field: kept in the tab's sessionStorage only, sent as a header (never a cookie). */
function tokenForm(): string {
  return html`<footer class="token">
<form id="token-form" autocomplete="off">
<label for="token">Write token</label>
<input id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-help">
<button type="submit">Use token</button>
<p id="token-help" class="dim">Needed to send frames, kick clients or reload. Kept in this tab only.</p>
</form>
</footer>`.html;
}
