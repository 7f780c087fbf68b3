// Numbers, durations and counters as `top` shows them. Pure.

import { trimZeros } from '../../src/control/present.js';

export { formatBitrate, sumValues } from '../../src/control/present.js';

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

export { formatBytes } from '../../src/core/human-units.js';

/** Bus load: "0%", "4.2%", "12.3%", "100%"; over 100 (overload estimate) shown as is. */
export function formatPercent(p: number): string {
  if (!Number.isFinite(p) || p <= 0) return '0%';
  if (p >= 100) return `${Math.round(p)}%`;
  return `${trimZeros(p.toFixed(1))}%`;
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
