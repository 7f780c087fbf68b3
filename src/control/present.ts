// How the bridge's state is judged and worded, shared by `status` (plain text) and `top`
// (tui/): one severity per bus and backend state, one set of load thresholds, one bitrate
// format, so the two views cannot disagree. Pure: no I/O, no colours (each view paints).

import type { BusSnapshot } from './protocol.js';
import { trimZeros } from '../core/human-units.js';

export { trimZeros };

export type Severity = 'ok' | 'warn' | 'error' | 'muted' | 'info';

/** Share of a client's queue above which its row is flagged before drops begin. */
export const NEAR_LIMIT_RATIO = 0.75;
/** Bus load (%) above which frames start to queue: an MCP2515 bus sustains about 70 %. */
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

/**
 * `unknown` is muted, not a warning: serial and virtual backends report no controller
 * state at all, and a permanent warning for that would teach people to ignore warnings.
 */
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

/** 50000 → "50 kbit/s", 1000000 → "1 Mbit/s", unknown → "?" */
export function formatBitrate(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps) || bps <= 0) return '?';
  if (bps >= 1_000_000) return `${trimZeros((bps / 1_000_000).toFixed(2))} Mbit/s`;
  if (bps >= 1000) return `${trimZeros((bps / 1000).toFixed(1))} kbit/s`;
  return `${bps} bit/s`;
}

export function sumValues(record: Record<string, number>): number {
  let total = 0;
  for (const v of Object.values(record)) if (Number.isFinite(v)) total += v;
  return total;
}

/**
 * The warnings `status` prints under its bus table ("! can0: …"), one string per problem;
 * the web overview shows the same words.
 */
export function busWarnings(b: Pick<BusSnapshot, 'name' | 'busLoad' | 'bitrate' | 'rxReadLate' | 'rxKernelDrops'>): string[] {
  const out: string[] = [];
  if (b.busLoad >= BUS_LOAD_WARN && b.bitrate !== null)
    out.push(`${b.name}: bus load ${b.busLoad.toFixed(1)}% is above ${BUS_LOAD_WARN}%: frames will queue and may go stale`);
  if ((b.rxReadLate ?? 0) > 0) {
    out.push(
      `${b.name}: ${b.rxReadLate} received frames were read more than --client-max-lag after they arrived (the bridge was stalled or the host is overloaded): not sent to clients (a capture still records them)`,
    );
  }
  if ((b.rxKernelDrops ?? 0) > 0) {
    out.push(
      `${b.name}: the kernel dropped ${b.rxKernelDrops} received frames because the bridge read too late (raise --can-rcvbuf, see "ampio-bridge doctor" for the kernel's cap on it, or the host is overloaded)`,
    );
  }
  return out;
}
