// The overview: each bus (state, bitrate, load, frames/s, errors, kernel drops), the clients
// by protocol, capture and its PostgreSQL forwarder, MQTT, the web server itself, and the
// warnings `status` prints, worded the same. Server-rendered, so it works with JavaScript
// off; the client script re-fetches <main> every second. Pure.
import { busWarnings, formatBitrate } from '../../control/present.js';
import type { ClientSnapshot, Snapshot } from '../../control/protocol.js';
import { describeCapture } from '../../control/describe-capture.js';
import { html, type Raw, raw } from './layout.js';

export function duration(sec: number): string {
  const s = Math.floor(sec);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');

function badge(text: string, level: 'ok' | 'warn' | 'bad' | 'dim'): Raw {
  return html`<span class="badge ${level}">${text}</span>`;
}

function stateLevel(s: string): 'ok' | 'warn' | 'bad' | 'dim' {
  if (s === 'open' || s === 'error-active') return 'ok';
  if (s === 'error-warning' || s === 'error-passive' || s === 'opening' || s === 'unknown') return 'warn';
  if (s === 'stopped') return 'dim';
  return 'bad';
}

/** One figure in a bus card; `data-field` lets tests (and people with dev tools) find it. */
function figure(label: string, field: string, value: string, level?: 'warn' | 'bad'): Raw {
  return html`<div class="fig${level ? ` ${level}` : ''}"><dt>${label}</dt><dd data-field="${field}">${value}</dd></div>`;
}

export function warnings(s: Snapshot): string[] {
  const out: string[] = [];
  const fds = s.daemon.descriptors;
  if (fds?.exhausted) out.push('the daemon is out of file descriptors: new clients cannot connect (see journalctl -u ampio-bridge, accept_exhausted)');
  for (const b of s.buses) {
    if (b.backendState !== 'open') out.push(`${b.name}: backend ${b.backendState}`);
    if (b.busState === 'bus-off') out.push(`${b.name}: bus-off`);
    out.push(...busWarnings(b));
  }
  for (const line of describeCapture(s.capture, s.time)) if (line.warn) out.push(line.text);
  return out;
}

function busCard(b: Snapshot['buses'][number]): Raw {
  const errs = Object.entries(b.errorCounters).filter(([, v]) => v > 0);
  const txDrops = Object.entries(b.txDrops).filter(([, v]) => v > 0);
  const load = b.bitrate === null ? '?' : `${b.busLoad.toFixed(1)} %`;
  return html`<section class="card" data-bus="${b.name}" aria-labelledby="bus-${b.name}">
<h3 id="bus-${b.name}">${b.name} ${badge(b.busState, stateLevel(b.busState))} ${b.backendState === 'open' ? '' : badge(`backend ${b.backendState}`, stateLevel(b.backendState))}</h3>
<dl class="figs">
${figure('Frames/s in', 'rxFps', n(b.rxFps))}
${figure('Frames/s out', 'txFps', n(b.txFps))}
${figure('Bus load', 'busLoad', load, b.busLoad >= 90 ? 'bad' : b.busLoad >= 70 ? 'warn' : undefined)}
${figure('Bitrate', 'bitrate', formatBitrate(b.bitrate) + (b.fd ? ' FD' : ''))}
${figure('Received', 'rxFrames', n(b.rxFrames))}
${figure('Sent', 'txFrames', n(b.txFrames))}
${figure('Error frames', 'errorFrames', n(b.errorFrames), b.errorFrames > 0 ? 'warn' : undefined)}
${figure('Kernel drops', 'rxKernelDrops', n(b.rxKernelDrops ?? 0), (b.rxKernelDrops ?? 0) > 0 ? 'warn' : undefined)}
${figure('Clients', 'clients', n(b.clients))}
${figure('Last frame', 'lastRx', b.lastRxAgeSec === null ? 'never' : `${duration(b.lastRxAgeSec)} ago`)}
</dl>
${errs.length > 0 ? html`<p class="dim">Error/state counters: ${errs.map(([k, v]) => `${k} ${v}`).join(', ')}</p>` : ''}
${txDrops.length > 0 ? html`<p class="warn">Frames toward the bus dropped: ${txDrops.map(([k, v]) => `${k} ${v}`).join(', ')}</p>` : ''}
</section>`;
}

function clientTable(protocol: string, clients: ClientSnapshot[], now: number, writes: boolean): Raw {
  const rows = clients.map(
    (c) => html`<tr data-client="${c.id}">
<td>${c.id}</td><td>${c.bus}</td><td>${c.remote}</td><td>${duration(Math.max(0, (now - c.connectedAt) / 1000))}</td>
<td class="num">${n(c.framesOut)}</td><td class="num">${n(c.framesIn)}</td>
<td class="num${c.drops + (c.staleDrops ?? 0) > 0 ? ' warn' : ''}">${n(c.drops + (c.staleDrops ?? 0))}</td>
<td class="num">${c.queueDepth}/${c.queueCapacity}</td>
${writes ? html`<td><button type="button" data-write="kick" data-id="${c.id}" aria-label="Disconnect client ${c.id} (${c.remote})">Kick</button></td>` : ''}
</tr>`,
  );
  return html`<div class="scroll"><table>
<caption>${protocol} · ${clients.length} client${clients.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">ID</th><th scope="col">Bus</th><th scope="col">Address</th><th scope="col">Connected</th><th scope="col" class="num">Frames out</th><th scope="col" class="num">Frames in</th><th scope="col" class="num">Drops</th><th scope="col" class="num">Queue</th>${writes ? raw('<th scope="col"><span class="sr">Action</span></th>') : ''}</tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

/** A section another service adds to the snapshot (MQTT): shown as its flat fields. */
function genericSection(title: string, value: unknown): Raw {
  if (value === null || typeof value !== 'object') return html``;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v === null || typeof v !== 'object');
  return html`<section class="card" aria-labelledby="sec-${title}"><h2 id="sec-${title}">${title}</h2>
<dl class="figs">${entries.map(([k, v]) => html`<div class="fig"><dt>${k}</dt><dd>${v === null ? '-' : String(v)}</dd></div>`)}</dl></section>`;
}

export function overviewMain(s: Snapshot, opts: { writes: boolean }): Raw {
  const d = s.daemon;
  const warn = warnings(s);
  const byProtocol = new Map<string, ClientSnapshot[]>();
  for (const c of s.clients) byProtocol.set(c.protocol ?? 'cannelloni', [...(byProtocol.get(c.protocol ?? 'cannelloni') ?? []), c]);
  const listeners = (d.listeners ?? []).map((l) => `${l.protocol}${l.bus ? ` ${l.bus}` : ''} ${l.address}`);
  const mqtt = (s as unknown as Record<string, unknown>).mqtt;
  return html`<h1>Overview</h1>
<p class="status-line"><span>version ${d.version}</span> · <span>up <span data-field="uptime">${duration(d.uptimeSec)}</span></span> · <span>backend ${d.backend}</span> · <span>${s.totals.active} client${s.totals.active === 1 ? '' : 's'}</span></p>
<section aria-labelledby="warn-h" class="${warn.length > 0 ? 'warnings' : 'ok-box'}">
<h2 id="warn-h">${warn.length > 0 ? `${warn.length} warning${warn.length === 1 ? '' : 's'}` : 'No warnings'}</h2>
${warn.length > 0 ? html`<ul>${warn.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
</section>
<h2>Buses</h2>
<div class="cards">${s.buses.map(busCard)}</div>
<h2>Clients</h2>
${s.clients.length === 0 ? html`<p class="dim">No clients connected.</p>` : [...byProtocol].map(([p, cs]) => clientTable(p, cs, s.time, opts.writes))}
<p class="dim">Listening: ${listeners.join(' · ') || '-'} · ${n(s.totals.accepted)} accepted · ${n(s.totals.rejected)} refused · ${n(s.totals.kicked)} kicked · ${n(s.totals.hubDrops)} hub drops</p>
<h2>Capture</h2>
${describeCapture(s.capture, s.time).map((l) => html`<p class="${l.warn ? 'warn' : ''}">${l.text}</p>`)}
${mqtt === undefined ? html`<h2>MQTT</h2><p class="dim">MQTT off</p>` : genericSection('MQTT', mqtt)}
${s.web ? html`<h2>This page</h2><p class="dim">${s.web.liveViewers} live viewer${s.web.liveViewers === 1 ? '' : 's'} · ${n(s.web.liveDropped)} frames lost by slow viewers · ${n(s.web.refused)} connections refused by --allow · ${s.web.writes ? `writes on (${n(s.web.writesDone)} done, ${n(s.web.writesRefused)} refused)` : 'read-only'}</p>` : ''}
${opts.writes ? html`<p><button type="button" data-write="reload">Reload the configuration</button> <span class="dim">as SIGHUP does</span></p>` : ''}
<p class="dim" aria-live="off">Updated <time datetime="${new Date(s.time).toISOString()}">${new Date(s.time).toISOString().replace('T', ' ').slice(0, 19)} UTC</time></p>`;
}
