// The house page and its API: the modules the decoder heard (and those the house file names
// but the bus never did), by area, with their names, online/offline, supply voltage and
// temperature (a supply below doctor's --ampio-low-supply threshold is highlighted, as
// doctor warns about it) and their decoded values under the house file's entity names.
// /api/modules answers the `ampio` snapshot section (`modules --json`'s shape), /api/state
// the named values (`state --json`'s). With writes on, binary outputs and flags get a switch
// (POST /api/output), encoded by the ampio command encoders.
import type http from 'node:http';
import { ampioCommands } from '../ampio/commands.js';
import { supplyIsLow, valueText } from '../ampio/present.js';
import type { AmpioView, ModuleEntry, StateView } from '../ampio/types.js';
import type { CanFrame } from '../core/frame.js';
import { duration } from './pages/overview.js';
import { html, type Raw } from './pages/layout.js';
import { sendJson } from './respond.js';

export interface HousePages {
  main(params: URLSearchParams): Raw;
  /** Answers /api/<name>; false when the name is not the house's. */
  api(name: string, params: URLSearchParams, res: http.ServerResponse, head: boolean): boolean;
}

/** Kinds a switch on the page may set, with their encoder. */
const SWITCHES: Record<string, (module: number, index: number, on: boolean) => CanFrame[]> = {
  bout: ampioCommands.encodeBinaryOutput,
  flag: ampioCommands.encodeFlag,
};

export interface HouseOptions {
  view: AmpioView;
  /** Drains the decoder's queue (a snapshot does) so the page shows the latest values. */
  refresh: () => void;
  writes: () => boolean;
  now: () => number;
}

export function createHousePages(o: HouseOptions): HousePages & {
  output(body: Record<string, unknown>, send: (bus: string, frames: CanFrame[]) => string | null): { status: number; result: Record<string, unknown> };
} {
  return {
    main() {
      o.refresh();
      const snap = o.view.snapshot();
      const values = o.view.stateViews();
      const byModule = new Map<number, StateView[]>();
      for (const v of values) byModule.set(v.module, [...(byModule.get(v.module) ?? []), v]);
      const areas = new Map<string, ModuleEntry[]>();
      for (const m of snap.modules) areas.set(m.area ?? '', [...(areas.get(m.area ?? '') ?? []), m]);
      const online = snap.modules.filter((m) => m.online).length;
      const h = snap.house;
      const fileLine = h.error
        ? html`<p class="bad" role="alert">House file: ${h.error}</p>`
        : h.path
          ? html`<p class="dim">Names from ${h.path}: ${h.devices} devices, ${h.entities} entities.</p>`
          : html`<p class="dim">No house file (--ampio-config): modules show under their addresses.</p>`;
      const sorted = [...areas].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
      return html`<h1>The house</h1>
<p class="status-line">${online} of ${snap.modules.length} module${snap.modules.length === 1 ? '' : 's'} online · ${snap.decode.decoded.toLocaleString('en-US')} state frames decoded</p>
${fileLine}
${snap.modules.length === 0 ? html`<p class="dim">No Ampio module heard yet.</p>` : ''}
${sorted.map(
  ([area, mods]) => html`<section class="house-area" aria-labelledby="area-${slug(area)}"><h2 id="area-${slug(area)}">${area || 'No area'}</h2>
<div class="cards">${mods.map((m) => moduleCard(m, byModule.get(m.address) ?? [], snap.lowSupplyVolts, o.now(), o.writes()))}</div></section>`,
)}`;
    },
    api(name, params, res, head) {
      if (name === 'modules') {
        o.refresh();
        sendJson(res, 200, o.view.snapshot(), head);
        return true;
      }
      if (name === 'state') {
        o.refresh();
        sendJson(res, 200, o.view.stateViews(params.get('filter') ?? undefined), head);
        return true;
      }
      return false;
    },
    output(body, send) {
      const kind = String(body.kind ?? 'bout');
      const encode = SWITCHES[kind];
      if (!encode) return { status: 400, result: { error: `kind must be ${Object.keys(SWITCHES).join(' or ')}` } };
      const key = String(body.module ?? '')
        .toLowerCase()
        .replace(/^0x/, '');
      const m = o.view.modules().find((e) => e.key === key.padStart(8, '0'));
      if (!/^[0-9a-f]{1,8}$/.test(key) || !m)
        return { status: 404, result: { error: `no module ${String(body.module)} (use its address as /api/modules lists it)`, reason: 'no_module' } };
      const channel = Number(body.channel);
      if (!Number.isInteger(channel) || channel < 1 || channel > 255) return { status: 400, result: { error: 'channel must be 1 to 255' } };
      const on = body.on === true;
      const problem = send(m.bus, encode(m.address, channel, on));
      if (problem) return { status: 503, result: { error: `the bus refused the command: ${problem}`, reason: problem } };
      return { status: 200, result: { module: m.key, kind, channel, on } };
    },
  };
}

function slug(area: string): string {
  return area.toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'none';
}

function moduleCard(m: ModuleEntry, values: StateView[], lowSupply: number, now: number, writes: boolean): Raw {
  // The same judgement as `modules` and doctor (src/ampio/present.ts).
  const low = supplyIsLow(m, lowSupply);
  const title = m.name ?? `Module 0x${m.key}`;
  return html`<section class="card module" data-module="${m.key}" aria-label="${title}">
<h3>${title} ${m.frames === 0 ? html`<span class="badge dim">not heard yet</span>` : html`<span class="badge ${m.online ? 'ok' : 'bad'}">${m.online ? 'online' : 'offline'}</span>`} <span class="addr">0x${m.key}${m.model ? ` · ${m.model}` : ''}</span></h3>
<dl class="figs">
<div class="fig${low ? ' bad' : ''}"><dt>Supply</dt><dd data-field="supply">${m.supplyVolts === null ? '-' : `${m.supplyVolts.toFixed(1)} V`}${low ? html` <span class="sr">(below ${lowSupply} V: doctor warns)</span>` : ''}</dd></div>
<div class="fig"><dt>Temperature</dt><dd data-field="temperature">${m.temperatureC === null ? '-' : `${m.temperatureC} °C`}</dd></div>
<div class="fig"><dt>Last heard</dt><dd>${m.frames === 0 ? 'never' : `${duration(Math.max(0, (now - m.lastSeen) / 1000))} ago`}</dd></div>
<div class="fig"><dt>Frames/s</dt><dd>${m.rate.toFixed(1)}</dd></div>
</dl>
${low ? html`<p class="bad">Supply below ${lowSupply} V (doctor warns: check the bus power supply and wiring).</p>` : ''}
${valueLists(
  m,
  values.filter((v) => v.kind !== 'diagnostics'),
  writes,
)}
</section>`;
}

/** Named values (the house file's entities) in view; the others folded away, since a module broadcasts dozens. */
function valueLists(m: ModuleEntry, values: StateView[], writes: boolean): Raw {
  const named = values.filter((v) => v.names.length > 0);
  const other = values.filter((v) => v.names.length === 0);
  return html`${named.length > 0 ? html`<ul class="values">${named.map((v) => valueItem(m, v, writes))}</ul>` : ''}
${other.length > 0 ? html`<details><summary>${other.length} ${named.length > 0 ? 'more ' : ''}value${other.length === 1 ? '' : 's'} without a name</summary><ul class="values">${other.map((v) => valueItem(m, v, writes))}</ul></details>` : ''}`;
}

function valueItem(m: ModuleEntry, v: StateView, writes: boolean): Raw {
  const label = v.names.length > 0 ? v.names.join(', ') : v.ref;
  // Worded as `ampio-bridge state` words it.
  const text = valueText(v.value, v.unit);
  const canSwitch = writes && SWITCHES[v.kind] && typeof v.value === 'boolean';
  return html`<li data-ref="${v.ref}"><span>${label}</span>: <strong>${text}</strong>${
    canSwitch
      ? html` <button type="button" data-write="output" data-module="${m.key}" data-kind="${v.kind}" data-channel="${v.channel}" data-on="${v.value ? '0' : '1'}" aria-label="Switch ${label} ${v.value ? 'off' : 'on'}">${v.value ? 'Turn off' : 'Turn on'}</button>`
      : ''
  }</li>`;
}
