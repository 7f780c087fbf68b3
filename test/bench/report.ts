// Plain-text tables for the benchmark: aligned columns, no colour (the output goes into
// BENCHMARKS.md as it is).
import type { DecoderResult } from './decoders.js';
import type { TrafficResult, WindowResult } from './traffic.js';

export function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
export const ms = (us: number): string => (Number.isFinite(us) ? (us / 1000).toFixed(us < 10_000 ? 2 : 1) : '–');
export const fixed = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

function row(key: string, m: WindowResult, rssMB: number): string[] {
  return [
    key,
    int(m.offeredFps),
    int(m.deliveredFps),
    m.healthyClients ? `${int(m.perClientFps.min)}–${int(m.perClientFps.max)}` : '–',
    `${int(m.healthyDrops)}/${int(m.healthyGaps)}`,
    int(m.orderingViolations),
    ms(m.latency.p50Us),
    ms(m.latency.p95Us),
    ms(m.latency.p99Us),
    m.latency.count > 0 ? ms(m.latency.maxUs) : '–',
    fixed(m.bridgeCpuPercent, 1),
    fixed(m.bridgeSystemPercent, 1),
    fixed(m.bridgeCpuUsPerFrame, 2),
    fixed(rssMB, 0),
    fixed(m.loadCpuPercent, 0),
    ms(m.timerLateness.p99Us),
  ];
}

export const TRAFFIC_HEADER = [
  'scenario',
  'offered/s',
  'delivered/s',
  'per client/s',
  'drops/gaps',
  'order',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'max ms',
  'CPU %',
  'of it sys %',
  'µs/frame',
  'RSS MB',
  'loadgen %',
  'noise p99 ms',
];

export function trafficTable(results: TrafficResult[]): string {
  return table(
    TRAFFIC_HEADER,
    results.map((r) => row(r.key, r.median, r.peakRssMB)),
  );
}

export function decoderTable(results: DecoderResult[]): string {
  return table(
    ['decoder', 'chunk B', 'MB/s', 'frames/s', 'runs (MB/s)'],
    results.map((r) => [r.decoder, int(r.chunkBytes), fixed(r.mbPerS, 1), int(r.framesPerS), r.runs.map((x) => x.toFixed(1)).join(' ')]),
  );
}
