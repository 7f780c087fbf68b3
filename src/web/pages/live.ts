// The live frame view's page: the filter form (bus, ID/mask), pause, the counters of this
// viewer (frames shown per second, frames this browser lost), and the table the client
// script fills from /api/live. Without JavaScript it says so and points at History. Pure.
import { html, type Raw } from './layout.js';

export function liveMain(buses: readonly string[], opts: { writes: boolean; bus: string; ids: string }): Raw {
  return html`<h1>Live frames</h1>
<form id="live-filter" class="filters" method="get" action="/live">
<div><label for="live-bus">Bus</label>
<select id="live-bus" name="bus"><option value="">every bus</option>${buses.map((b) => html`<option value="${b}"${opts.bus === b ? html` selected` : ''}>${b}</option>`)}</select></div>
<div><label for="live-ids">ID/mask</label>
<input id="live-ids" name="ids" value="${opts.ids}" placeholder="e.g. 1d0 or 100/700" inputmode="text" autocomplete="off" spellcheck="false" aria-describedby="live-ids-help"></div>
<div class="actions"><button type="submit">Apply</button> <button type="button" id="live-pause" aria-pressed="false">Pause</button></div>
<p id="live-ids-help" class="dim">Hex ID, or ID/mask as SocketCAN filters (comma-separated); 8 digits or above 7FF = extended.</p>
</form>
<noscript><p class="warn">The live view needs JavaScript. The History page works without it.</p></noscript>
<p class="live-stats" aria-live="off"><span id="live-state">connecting…</span> · <span id="live-rate" data-field="liveRate">0</span> frames/s · <span id="live-dropped" data-field="liveDropped">0</span> lost by this browser (it read too slowly)</p>
<div class="scroll live"><table id="live-table" aria-describedby="live-caption">
<caption id="live-caption">Newest first; at most 200 rows are kept on screen.</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Bus</th><th scope="col">Dir</th><th scope="col">ID</th><th scope="col">Len</th><th scope="col">Data</th></tr></thead>
<tbody id="live-rows"></tbody>
</table></div>
${opts.writes ? sendForm(buses) : ''}`;
}

function sendForm(buses: readonly string[]): Raw {
  return html`<section aria-labelledby="send-h"><h2 id="send-h">Send a frame</h2>
<form id="send-form" class="filters" data-write="send">
<div><label for="send-bus">Bus</label><select id="send-bus" name="bus">${buses.map((b) => html`<option value="${b}">${b}</option>`)}</select></div>
<div><label for="send-id">ID (hex)</label><input id="send-id" name="id" required placeholder="1d0 or 0f000000" autocomplete="off" spellcheck="false"></div>
<div><label for="send-data">Data (hex)</label><input id="send-data" name="data" placeholder="0102ff" autocomplete="off" spellcheck="false"></div>
<div class="actions"><button type="submit">Send</button></div>
</form>
<p id="write-result" role="status" class="dim"></p></section>`;
}
