// The capture search: a GET form (time window, bus, ID/mask), one page of frames newest
// first with older/newer links, and the downloads of the export formats for the same
// search. Plain links and a form: it works with JavaScript off. Pure.
import { EXPORT_FORMATS, FORMAT_FILES } from '../../capture/formats/index.js';
import { EXPORT_TITLES, PAGE_SIZE, type SearchPage } from '../history.js';
import { html, type Raw } from './layout.js';

export interface HistoryForm {
  since: string;
  until: string;
  bus: string;
  id: string;
}

function link(form: HistoryForm, extra: Record<string, string>, base = '/history'): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...form, ...extra })) if (v !== '') p.set(k, v);
  const q = p.toString();
  return q ? `${base}?${q}` : base;
}

function idText(r: SearchPage['rows'][number]): string {
  return r.id
    .toString(16)
    .toUpperCase()
    .padStart(r.extended || r.error ? 8 : 3, '0');
}

export function historyMain(o: { buses: readonly string[]; form: HistoryForm; capture: string | null; page: SearchPage | null; error: string | null }): Raw {
  const { form } = o;
  const head = html`<h1>History</h1>`;
  if (!o.capture) {
    return html`${head}<p class="warn">Capture is off: the bridge keeps no history. Start it with <code>--capture /var/lib/ampio-bridge/capture.db</code> (<code>sudo ampio-bridge setup</code> offers it).</p>`;
  }
  const formHtml = html`<form class="filters" method="get" action="/history">
<div><label for="h-since">From</label><input id="h-since" name="since" value="${form.since}" placeholder="1h, 02:14 or 2026-11-30 02:14" aria-describedby="h-help"></div>
<div><label for="h-until">To</label><input id="h-until" name="until" value="${form.until}" placeholder="now" aria-describedby="h-help"></div>
<div><label for="h-bus">Bus</label><select id="h-bus" name="bus"><option value="">every bus</option>${o.buses.map((b) => html`<option value="${b}"${form.bus === b ? html` selected` : ''}>${b}</option>`)}</select></div>
<div><label for="h-id">ID or ID/mask</label><input id="h-id" name="id" value="${form.id}" placeholder="1ABC or 1A00/FF00" autocomplete="off" spellcheck="false"></div>
<div class="actions"><button type="submit">Search</button></div>
<p id="h-help" class="dim">Times: an age (30m, 2h, 1d), a time of day (02:14) or a date; local time of the bridge.</p>
</form>`;
  const downloads = html`<p class="downloads">Download this search: ${EXPORT_FORMATS.map((fmt, i) => html`${i > 0 ? ' · ' : ''}<a href="${link(form, { format: fmt }, '/api/export')}" download>${EXPORT_TITLES[fmt]} (.${FORMAT_FILES[fmt].extension})</a>`)}</p>`;
  if (o.error) return html`${head}${formHtml}<p class="bad" role="alert">${o.error}</p>`;
  const page = o.page!;
  const rows = page.rows.map(
    (r) =>
      html`<tr><td><time datetime="${r.time}"><span class="date">${r.time.slice(0, 10)} </span>${r.time.slice(11, 23)}</time></td><td>${r.bus}</td><td>${r.direction}</td><td class="mono">${idText(r)}</td><td class="num">${r.len}</td><td class="mono">${r.data.toUpperCase().replace(/(..)(?=.)/g, '$1 ')}</td></tr>`,
  );
  const nav = html`<nav class="pager" aria-label="Pages">
${page.offset > 0 ? html`<a href="${link(form, { offset: String(Math.max(0, page.offset - PAGE_SIZE)) })}" rel="prev">← Newer</a>` : ''}
<span>frames ${page.rows.length === 0 ? 0 : page.offset + 1}–${page.offset + page.rows.length}</span>
${page.more ? html`<a href="${link(form, { offset: String(page.offset + PAGE_SIZE) })}" rel="next">Older →</a>` : ''}
</nav>`;
  return html`${head}${formHtml}${downloads}
${
  page.rows.length === 0
    ? html`<p class="dim">No frames match.</p>`
    : html`<div class="scroll"><table><caption>Newest first, ${PAGE_SIZE} per page (time in UTC)</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Bus</th><th scope="col">Dir</th><th scope="col">ID</th><th scope="col" class="num">Len</th><th scope="col">Data</th></tr></thead>
<tbody>${rows}</tbody></table></div>${nav}`
}`;
}
