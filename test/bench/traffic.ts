// One traffic scenario: start the bridge process, start the load generator with its
// clients, warm up, then measure one or more windows. Per window: what the bus offered,
// what the clients got, drops on both sides, ordering, latency, and the bridge's CPU.
import type { Snapshot } from '../../src/control/protocol.js';
import { BridgeProcess } from './bridge-process.js';
import { LatencyHistogram, type HistogramSummary } from './histogram.js';
import { LoadProcess } from './load-process.js';
import { NoiseProbe } from './noise-probe.js';
import type { ClientSpec } from './messages.js';

export interface TrafficSpec {
  /** Short key: `a`, `b`, `b0`, `c@20000`, … */
  key: string;
  title: string;
  /** serve flags besides backend/payload/listen/log/control-socket. */
  bridgeArgs: string[];
  buses: number;
  /** `ports`: cannelloni's per bus; `byProtocol`: every protocol's per bus. */
  clients(ports: number[], byProtocol: Record<string, number[]>): ClientSpec[];
  /** The rate the scenario asks for (frames/s entering the bridge, all buses or all senders). */
  configuredFps: number;
  warmS: number;
  windowS: number;
  windows: number;
  /**
   * After the warm-up, wait (up to this many seconds) until the bridge drops frames for
   * some client: a stalled client first fills the kernel's socket buffers (megabytes on
   * loopback) before the bridge's own queue for it overflows, and only then is (d) real.
   */
  waitForDropsS?: number;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface WindowResult {
  seconds: number;
  /** Frames/s that entered the bridge: generated on its buses, or sent by clients. */
  offeredFps: number;
  /** Frames/s that reached the bus from clients (bus txFrames), scenario (f). */
  toBusFps: number;
  /** Frames/s received by the healthy clients together. */
  deliveredFps: number;
  perClientFps: Spread;
  healthyClients: number;
  /** Frames the bridge dropped for healthy clients (hub queue full), from its snapshot. */
  healthyDrops: number;
  /** Frames missing in the healthy clients' sequences (should equal healthyDrops). */
  healthyGaps: number;
  /** Frames the bridge dropped for stalled clients. */
  stalledDrops: number;
  orderingViolations: number;
  /** Connections the bridge closed during the window. */
  closedClients: number;
  latency: HistogramSummary;
  negativeLatency: number;
  /** How late a 1 ms timer fired in the orchestrator meanwhile: the machine's noise. */
  timerLateness: HistogramSummary;
  bridgeCpuPercent: number;
  /** User and kernel parts of bridgeCpuPercent (loopback TCP sends cost kernel time). */
  bridgeUserPercent: number;
  bridgeSystemPercent: number;
  /** Bridge CPU time per frame delivered to a client, µs. */
  bridgeCpuUsPerFrame: number;
  /** The load generator's CPU: near 100 % means it, not the bridge, may be the limit. */
  loadCpuPercent: number;
}

export interface TrafficResult {
  key: string;
  title: string;
  command: string;
  configuredFps: number;
  windows: WindowResult[];
  /** Median of each figure over the windows (max for latency max and for drops). */
  median: WindowResult;
  peakRssMB: number;
  bridgeExitCode: number | null;
}

export interface RunOptions {
  bridgeNodeArgs?: string[];
  /** The bridge CLI (default: this build's). */
  cli?: string;
  /** Progress lines (stderr). */
  progress(line: string): void;
}

export async function runTraffic(spec: TrafficSpec, options: RunOptions): Promise<TrafficResult> {
  const bridge = await BridgeProcess.start({ args: spec.bridgeArgs, buses: spec.buses, nodeArgs: options.bridgeNodeArgs, cli: options.cli });
  let load: LoadProcess | null = null;
  const windows: WindowResult[] = [];
  let peakRssMB = Number.NaN;
  let exitCode: number | null = null;
  try {
    const clients = spec.clients(bridge.ports, bridge.portsByProtocol);
    load = await LoadProcess.start({ clients });
    await sleep(spec.warmS * 1000);
    if (spec.waitForDropsS) await waitForDrops(bridge, spec.waitForDropsS, options.progress);
    for (let w = 0; w < spec.windows; w++) {
      const snap0 = await bridge.snapshot();
      const cpu0 = bridge.cpuTimes();
      const t0 = performance.now();
      await load.begin();
      const probe = new NoiseProbe();
      probe.start();
      await sleep(spec.windowS * 1000);
      const noise = probe.stop();
      const r = await load.end();
      const cpu1 = bridge.cpuTimes();
      const seconds = (performance.now() - t0) / 1000;
      const snap1 = await bridge.snapshot();
      windows.push({ ...summarise(r, snap0, snap1, { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system }, seconds), timerLateness: noise });
      options.progress(`  ${spec.key} window ${w + 1}/${spec.windows}: ${describe(windows[windows.length - 1])}`);
    }
    peakRssMB = bridge.peakRssBytes() / (1024 * 1024);
  } finally {
    await load?.stop();
    exitCode = await bridge.stop();
  }
  return {
    key: spec.key,
    title: spec.title,
    command: `ampio-bridge serve --backend virtual --virtual-payload sequence ${spec.bridgeArgs.join(' ')}`.trim(),
    configuredFps: spec.configuredFps,
    windows,
    median: medianWindow(windows),
    peakRssMB,
    bridgeExitCode: exitCode,
  };
}

type LoadResult = Awaited<ReturnType<LoadProcess['end']>>;

async function waitForDrops(bridge: BridgeProcess, maxS: number, progress: (l: string) => void): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxS * 1000) {
    const s = await bridge.snapshot();
    if (s.clients.some((c) => c.drops > 0)) {
      progress(`  the bridge started dropping for the stalled client after ${((performance.now() - t0) / 1000).toFixed(1)} s more`);
      return;
    }
    await sleep(250);
  }
  progress(`  no drops after ${maxS} s: the stalled client's kernel buffers are not full yet`);
}

function summarise(
  r: LoadResult,
  snap0: Snapshot,
  snap1: Snapshot,
  cpu: { user: number; system: number },
  seconds: number,
): Omit<WindowResult, 'timerLateness'> {
  const cpuS = cpu.user + cpu.system;
  const loadSeconds = r.elapsedMs / 1000;
  const healthy = r.clients.filter((c) => c.role !== 'stall');
  const stalledPorts = new Set(r.clients.filter((c) => c.role === 'stall').map((c) => c.localPort));
  const delivered = healthy.reduce((n, c) => n + c.frames, 0);
  const sent = r.clients.reduce((n, c) => n + c.sent, 0);
  const rx = (s: Snapshot): number => s.buses.reduce((n, b) => n + b.rxFrames, 0);
  const tx = (s: Snapshot): number => s.buses.reduce((n, b) => n + b.txFrames, 0);
  const drops0 = new Map(snap0.clients.map((c) => [c.id, c.drops]));
  let healthyDrops = 0;
  let stalledDrops = 0;
  for (const c of snap1.clients) {
    const d = c.drops - (drops0.get(c.id) ?? 0);
    const port = Number(c.remote.split(':').pop());
    if (stalledPorts.has(port)) stalledDrops += d;
    else healthyDrops += d;
  }
  const perClient = healthy.map((c) => c.frames / loadSeconds).sort((x, y) => x - y);
  const hist = new LatencyHistogram();
  hist.merge(r.latency);
  const offered = sent > 0 ? sent / loadSeconds : (rx(snap1) - rx(snap0)) / seconds;
  return {
    seconds,
    offeredFps: offered,
    toBusFps: (tx(snap1) - tx(snap0)) / seconds,
    deliveredFps: delivered / loadSeconds,
    perClientFps: { min: perClient[0] ?? 0, median: median(perClient), max: perClient[perClient.length - 1] ?? 0 },
    healthyClients: healthy.length,
    healthyDrops,
    healthyGaps: healthy.reduce((n, c) => n + c.gaps, 0),
    stalledDrops,
    orderingViolations: r.clients.reduce((n, c) => n + c.violations, 0),
    closedClients: r.clients.filter((c) => c.closed).length,
    latency: hist.summary(),
    negativeLatency: r.negativeLatency,
    bridgeCpuPercent: (cpuS / seconds) * 100,
    bridgeUserPercent: (cpu.user / seconds) * 100,
    bridgeSystemPercent: (cpu.system / seconds) * 100,
    bridgeCpuUsPerFrame: delivered > 0 ? (cpuS * 1e6) / delivered : Number.NaN,
    loadCpuPercent: ((r.cpuUserUs + r.cpuSystemUs) / 1e6 / loadSeconds) * 100,
  };
}

export function describe(w: WindowResult): string {
  return (
    `offered ${fmt(w.offeredFps)}/s, delivered ${fmt(w.deliveredFps)}/s, drops ${w.healthyDrops}+${w.healthyGaps} gaps, ` +
    `order ${w.orderingViolations}, p50 ${(w.latency.p50Us / 1000).toFixed(2)} p99 ${(w.latency.p99Us / 1000).toFixed(2)} ms, bridge ${w.bridgeCpuPercent.toFixed(1)} % ` +
    `[user ${w.bridgeUserPercent.toFixed(1)} sys ${w.bridgeSystemPercent.toFixed(1)}] ` +
    `(${w.bridgeCpuUsPerFrame.toFixed(2)} µs/frame), load gen ${w.loadCpuPercent.toFixed(0)} %, ` +
    `timer lateness p99 ${(w.timerLateness.p99Us / 1000).toFixed(2)} ms`
  );
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function median(sorted: number[]): number {
  if (sorted.length === 0) return Number.NaN;
  const s = [...sorted].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The median window, field by field. Drops, gaps, violations, closed clients and the
 * latency maximum take the worst window instead: a budget of "0 drops" must see any drop.
 */
function medianWindow(ws: WindowResult[]): WindowResult {
  const worst = new Set(['healthyDrops', 'healthyGaps', 'stalledDrops', 'orderingViolations', 'closedClients', 'negativeLatency', 'maxUs']);
  const combine = (values: unknown[], key: string): unknown => {
    const first = values[0];
    if (typeof first === 'number') return worst.has(key) ? Math.max(...(values as number[])) : median(values as number[]);
    if (first && typeof first === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(first))
        out[k] = combine(
          values.map((v) => (v as Record<string, unknown>)[k]),
          k,
        );
      return out;
    }
    return first;
  };
  return combine(ws, '') as WindowResult;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
