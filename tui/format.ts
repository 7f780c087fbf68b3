// Pure formatters and derived figures for `top`. No React, no I/O, no clock: every
// function takes what it needs, so the screen can be tested from fixture snapshots.

import type { BusSnapshot, ClientSnapshot, DaemonEvent, Snapshot } from '../src/control/protocol.js';

export type Severity = 'ok' | 'warn' | 'error' | 'muted' | 'info';

// ---------------------------------------------------------------- numbers

/** Compact counts: 999, 9999, 12.3k, 1.23M, 4.56G. Never wider than 6 characters. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  if (abs < 10_000) return sign + String(Math.round(abs));
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const v = abs / size;
      const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
      return sign + trimZeros(v.toFixed(digits)) + unit;
    }
  }
  return sign + String(Math.round(abs));
}

/** Frames per second: `–` when unknown (first sample), one decimal below 10. */
export function formatRate(fps: number | null | undefined): string {
  if (fps === null || fps === undefined || !Number.isFinite(fps)) return '–';
  if (fps <= 0) return '0';
  if (fps < 10) return trimZeros(fps.toFixed(1));
  return formatCount(fps);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${trimZeros(v.toFixed(v >= 100 ? 0 : 1))} ${units[i]}`;
}

/** 50000 → "50 kbit/s", 1000000 → "1 Mbit/s", null → "bitrate ?" */
export function formatBitrate(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps) || bps <= 0) return 'bitrate ?';
  if (bps >= 1_000_000) return `${trimZeros((bps / 1_000_000).toFixed(2))} Mbit/s`;
  if (bps >= 1000) return `${trimZeros((bps / 1000).toFixed(1))} kbit/s`;
  return `${bps} bit/s`;
}

/** Bus load: "0%", "4.2%", "12.3%", "100%"; over 100 (overload estimate) shown as is. */
export function formatPercent(p: number): string {
  if (!Number.isFinite(p) || p <= 0) return '0%';
  if (p >= 100) return `${Math.round(p)}%`;
  return `${trimZeros(p.toFixed(1))}%`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

// ---------------------------------------------------------------- time

/** Durations for uptime and "connected for": 45s, 2m 03s, 3h 04m, 5d 03h. */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad2(m % 60)}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${pad2(h % 24)}h`;
}

/** Wall-clock time of day in the viewer's local zone: 14:03:07. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// ---------------------------------------------------------------- text layout

/** Cut to `width` columns with an ellipsis. Our strings are single-width (ASCII and box glyphs). */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return text.slice(0, width - 1) + '…';
}

/** Keeps the end (ports, socket file names are the useful part). */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return '…' + text.slice(text.length - width + 1);
}

/** `0.0.0.0:20000` → `:20000` on a narrow screen: the wildcard host says nothing. */
export function compactListen(listen: string): string {
  return listen.replace(/^(0\.0\.0\.0|::|\[::\])(?=:\d+$)/, '');
}

export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}

// ---------------------------------------------------------------- sparkline

const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * The scale top for a bus-load sparkline: the next of 1, 2, 5, 10, 20, 50, 100 % above the
 * peak, so a quiet 50 kbit/s Ampio bus (2–5 %) still shows its shape, while the label says
 * the scale so nobody mistakes a 5 % bar for a full bus.
 */
export function sparkScale(values: readonly number[]): number {
  const peak = values.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);
  for (const step of [1, 2, 5, 10, 20, 50, 100]) if (peak <= step) return step;
  return Math.ceil(peak / 100) * 100;
}

/**
 * One cell per sample, newest at the right. With fewer samples than cells (just started)
 * the left is blank rather than stretched, so time runs at one cell per second.
 */
export function sparkline(values: readonly number[], width: number, max = sparkScale(values)): string {
  if (width <= 0) return '';
  const tail = values.slice(Math.max(0, values.length - width));
  let out = ' '.repeat(width - tail.length);
  for (const v of tail) {
    if (!Number.isFinite(v) || v <= 0) {
      out += ' ';
      continue;
    }
    const idx = Math.min(SPARK.length - 1, Math.max(0, Math.ceil((v / max) * SPARK.length) - 1));
    out += SPARK[idx];
  }
  return out;
}

// ---------------------------------------------------------------- severities

/** Share of a client's queue above which its row is flagged before drops begin. */
export const NEAR_LIMIT_RATIO = 0.75;
export const BUS_LOAD_WARN = 70;
export const BUS_LOAD_ERROR = 90;

export function backendSeverity(state: BusSnapshot['backendState']): Severity {
  switch (state) {
    case 'open':
      return 'ok';
    case 'opening':
      return 'warn';
    case 'absent':
    case 'closed':
      return 'error';
  }
}

export function busStateSeverity(state: BusSnapshot['busState']): Severity {
  switch (state) {
    case 'error-active':
      return 'ok';
    case 'error-warning':
    case 'error-passive':
      return 'warn';
    case 'bus-off':
    case 'stopped':
    case 'down':
    case 'absent':
      return 'error';
    case 'unknown':
      return 'muted';
  }
}

export function busLoadSeverity(load: number): Severity {
  if (load >= BUS_LOAD_ERROR) return 'error';
  if (load >= BUS_LOAD_WARN) return 'warn';
  return 'ok';
}

const SEVERITY_RANK: Record<Severity, number> = { muted: 0, info: 0, ok: 1, warn: 2, error: 3 };

export function worst(...severities: Severity[]): Severity {
  return severities.reduce((a, b) => (SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a), 'ok' as Severity);
}

/** Overall health of one bus: the worst of backend, bus state and load. */
export function busSeverity(bus: BusSnapshot): Severity {
  return worst(backendSeverity(bus.backendState), busStateSeverity(bus.busState), busLoadSeverity(bus.busLoad));
}

export type ClientHealth = 'ok' | 'near' | 'dropping';

/**
 * `dropping`: the hub dropped frames for this client since the previous snapshot (or, with
 * no previous one, the queue is full right now). `near`: the queue is at least 75 % full.
 */
export function clientHealth(client: ClientSnapshot, prev: ClientSnapshot | undefined): ClientHealth {
  if (prev ? client.drops > prev.drops : client.drops > 0 && client.queueDepth >= client.queueCapacity) return 'dropping';
  if (client.queueCapacity > 0 && client.queueDepth >= client.queueCapacity * NEAR_LIMIT_RATIO) return 'near';
  return 'ok';
}

// ---------------------------------------------------------------- rates between snapshots

/** connectedAt readings closer than this belong to the same connection. */
const SAME_CONNECTION_MS = 1000;

export interface ClientRates {
  outFps: number;
  inFps: number;
}

/**
 * Frames/s per client from two successive snapshots. A client seen for the first time has no
 * rate yet (shown as –) rather than a made-up 0. A recycled id with a new connectedAt is a new
 * client; the daemon derives connectedAt from its monotonic clock at each snapshot, so the
 * same connection can differ by a fraction of a millisecond between two readings.
 */
export function clientRates(prev: Snapshot | null, cur: Snapshot): Map<number, ClientRates> {
  const rates = new Map<number, ClientRates>();
  if (!prev) return rates;
  const dt = (cur.time - prev.time) / 1000;
  if (!(dt > 0)) return rates;
  const before = new Map(prev.clients.map((c) => [c.id, c]));
  for (const c of cur.clients) {
    const p = before.get(c.id);
    if (!p || Math.abs(p.connectedAt - c.connectedAt) > SAME_CONNECTION_MS) continue;
    rates.set(c.id, {
      outFps: Math.max(0, (c.framesOut - p.framesOut) / dt),
      inFps: Math.max(0, (c.framesIn - p.framesIn) / dt),
    });
  }
  return rates;
}

export function previousClients(prev: Snapshot | null): Map<number, ClientSnapshot> {
  const m = new Map<number, ClientSnapshot>();
  if (!prev) return m;
  for (const c of prev.clients) m.set(c.id, c);
  return m;
}

// ---------------------------------------------------------------- sorting

export const SORT_KEYS = ['id', 'remote', 'age', 'outFps', 'inFps', 'queue', 'drops'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const SORT_LABELS: Record<SortKey, string> = {
  id: 'id',
  remote: 'remote',
  age: 'connected',
  outFps: 'out/s',
  inFps: 'in/s',
  queue: 'queue',
  drops: 'drops',
};

/** Numbers where big is interesting sort descending; names and ids ascending; age oldest first. */
export function defaultDescending(key: SortKey): boolean {
  return key !== 'id' && key !== 'remote';
}

export function nextSortKey(key: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(key) + 1) % SORT_KEYS.length];
}

export function sortClients(
  clients: readonly ClientSnapshot[],
  key: SortKey,
  descending: boolean,
  rates: ReadonlyMap<number, ClientRates>,
): ClientSnapshot[] {
  const value = (c: ClientSnapshot): number | string => {
    switch (key) {
      case 'id':
        return c.id;
      case 'remote':
        return c.remote;
      case 'age':
        return -c.connectedAt; // older connection = larger age
      case 'outFps':
        return rates.get(c.id)?.outFps ?? -1;
      case 'inFps':
        return rates.get(c.id)?.inFps ?? -1;
      case 'queue':
        return c.queueDepth;
      case 'drops':
        return c.drops;
    }
  };
  const dir = descending ? -1 : 1;
  return [...clients].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    let cmp: number;
    if (typeof va === 'string' || typeof vb === 'string') cmp = String(va).localeCompare(String(vb), 'en', { numeric: true });
    else cmp = va - vb;
    return cmp !== 0 ? cmp * dir : a.id - b.id;
  });
}

// ---------------------------------------------------------------- event log

export interface LogEntry {
  time: number;
  text: string;
  severity: Severity;
}

export function eventSeverity(event: DaemonEvent): Severity {
  switch (event.kind) {
    case 'client_connected':
      return 'info';
    case 'client_disconnected':
      return 'muted';
    case 'client_kicked':
    case 'client_rejected':
    case 'handshake_failed':
      return 'warn';
    case 'backend_absent':
      return 'error';
    case 'backend_reopened':
      return 'ok';
    case 'bus_state': {
      const to = event.to as BusSnapshot['busState'] | undefined;
      if (!to) return 'info';
      const sev = busStateSeverity(to);
      return sev === 'muted' ? 'info' : sev;
    }
  }
}

/** The daemon writes one human sentence per event; fall back to the kind if it is empty. */
export function eventToLogEntry(event: DaemonEvent): LogEntry {
  const text = event.message?.trim() || [event.kind.replace(/_/g, ' '), event.bus, event.remote].filter(Boolean).join(' ');
  return { time: event.time, text, severity: eventSeverity(event) };
}

// ---------------------------------------------------------------- misc

export function sumValues(record: Record<string, number>): number {
  let total = 0;
  for (const v of Object.values(record)) if (Number.isFinite(v)) total += v;
  return total;
}

/**
 * Non-zero counters as "busOff 1 passive 2", largest first. Entries into error-active are
 * recoveries, not errors: listing them next to "errors" would read as trouble.
 */
export function formatCounters(record: Record<string, number>): string {
  return Object.entries(record)
    .filter(([k, v]) => v > 0 && !/^error[-_]?active$/i.test(k))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${formatCount(v)}`)
    .join(' ');
}
