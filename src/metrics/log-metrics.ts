// --log-metrics-interval: the counters as one log line per interval, for installs without
// Prometheus (journald keeps them). Event name and first fields as go-ampio-server's
// `metrics_snapshot`, plus ours.
import { type MetricsSource, readSource } from './metrics-source.js';

export interface MetricsLoggerOptions {
  source: MetricsSource;
  intervalMs: number;
  log: (level: 'info', event: string, fields: Record<string, unknown>) => void;
  /** Injected for tests; default global timers. */
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

export interface MetricsLogger {
  start(): void;
  stop(): void;
  /** Logs one line now (also what each tick does). */
  logOnce(): void;
}

/** The fields of one `metrics_snapshot` line. */
export function metricsLogFields(source: MetricsSource): Record<string, unknown> {
  const { snap, counters: c } = readSource(source);
  const sum = (kind: string, field: 'rxFrames' | 'txFrames'): number => snap.buses.reduce((acc, b) => (b.backend === kind ? acc + b[field] : acc), 0);
  const errors = Object.values(c.errorsByWhere).reduce((a, b) => a + b, 0);
  const fields: Record<string, unknown> = {
    serial_rx: sum('serial', 'rxFrames'),
    socketcan_rx: sum('socketcan', 'rxFrames'),
    serial_tx: sum('serial', 'txFrames'),
    socketcan_tx: sum('socketcan', 'txFrames'),
    tcp_rx: c.tcpRxFrames,
    tcp_tx: c.tcpTxFrames,
    hub_drops: snap.totals.hubDrops,
    errors,
    clients: snap.totals.active,
    kicked: snap.totals.kicked,
    rejected: snap.totals.rejected,
    malformed: snap.totals.malformed,
    handshake_failures: snap.totals.handshakeFailures,
  };
  // Per bus only what an operator scans for: load, state, drops toward the bus.
  for (const b of snap.buses) {
    const key = b.name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'bus';
    fields[`${key}_rx`] = b.rxFrames;
    fields[`${key}_tx`] = b.txFrames;
    fields[`${key}_load_pct`] = b.busLoad;
    fields[`${key}_state`] = b.busState;
    fields[`${key}_tx_drops`] = Object.values(b.txDrops).reduce((a, n) => a + n, 0);
  }
  return fields;
}

export function createMetricsLogger(opts: MetricsLoggerOptions): MetricsLogger {
  const setI = opts.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms).unref());
  const clearI = opts.clearInterval ?? ((h: unknown) => clearInterval(h as NodeJS.Timeout));
  let handle: unknown = null;
  const logOnce = (): void => opts.log('info', 'metrics_snapshot', metricsLogFields(opts.source));
  return {
    logOnce,
    start() {
      if (handle !== null || opts.intervalMs <= 0) return;
      handle = setI(logOnce, opts.intervalMs);
    },
    stop() {
      if (handle === null) return;
      clearI(handle);
      handle = null;
    },
  };
}
