// What the kernel says about a CAN network interface: the reads (sysfs files, `ip -details
// -json link show IF`) at the bottom, and the pure parsing of their text above them, which
// the tests feed directly. The backend takes the reads as injectable functions.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BusState } from '../../core/bus-state.js';

/** Cheap, polled view of an interface (sysfs: flags, mtu, operstate, tx_queue_len). */
export interface LinkSnapshot {
  present: boolean;
  /** IFF_UP: administratively up. */
  up: boolean;
  mtu: number;
  operstate: string;
  txQueueLen: number | null;
  /** ifindex: changes when the interface is deleted and re-created under the same name. */
  ifindex: number | null;
}

export const ABSENT_LINK: LinkSnapshot = {
  present: false,
  up: false,
  mtu: 0,
  operstate: 'absent',
  txQueueLen: null,
  ifindex: null,
};

/** CAN_MTU / CANFD_MTU from linux/can.h: a 72-byte MTU means the interface carries CAN FD. */
export const CAN_MTU = 16;
export const CANFD_MTU = 72;

const IFF_UP = 0x1;

/** Builds a snapshot from the sysfs files' text (`flags` is hex like "0x40c1"). */
export function linkFromSysfs(files: { flags: string; mtu: string; operstate: string; txQueueLen?: string; ifindex?: string }): LinkSnapshot {
  const flags = Number.parseInt(files.flags.trim(), 16);
  const mtu = Number.parseInt(files.mtu.trim(), 10);
  const q = files.txQueueLen === undefined ? Number.NaN : Number.parseInt(files.txQueueLen.trim(), 10);
  const ix = files.ifindex === undefined ? Number.NaN : Number.parseInt(files.ifindex.trim(), 10);
  return {
    present: true,
    up: Number.isFinite(flags) && (flags & IFF_UP) !== 0,
    mtu: Number.isFinite(mtu) ? mtu : 0,
    operstate: files.operstate.trim() || 'unknown',
    txQueueLen: Number.isFinite(q) ? q : null,
    ifindex: Number.isFinite(ix) ? ix : null,
  };
}

/** The parts of `ip -details -json link show IF` the bridge uses. */
export interface LinkDetails {
  ifname: string;
  /** `linkinfo.info_kind`: "can" for real controllers, "vcan", "vxcan", ... */
  kind: string | null;
  mtu: number;
  up: boolean;
  txQueueLen: number | null;
  /** Controller state (real CAN only). */
  canState: BusState | null;
  bitrate: number | null;
  dataBitrate: number | null;
  restartMs: number | null;
  /** Oscillator clock the driver reports (MCP2515: half the crystal). */
  clock: number | null;
}

const CAN_STATES: Record<string, BusState> = {
  'ERROR-ACTIVE': 'error-active',
  'ERROR-WARNING': 'error-warning',
  'ERROR-PASSIVE': 'error-passive',
  'BUS-OFF': 'bus-off',
  STOPPED: 'stopped',
  // A sleeping controller carries nothing, like a stopped one.
  SLEEPING: 'stopped',
};

export function canStateFromText(text: string | undefined | null): BusState | null {
  if (!text) return null;
  return CAN_STATES[text.toUpperCase()] ?? null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Parses the JSON array `ip -details -json link show IF` prints. Returns null when the
 * text is not that (old iproute2 without -json, an error message, an empty list).
 */
export function parseIpLinkDetails(text: string): LinkDetails | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const entry = Array.isArray(parsed) ? parsed[0] : null;
  if (!entry || typeof entry !== 'object') return null;
  const e = entry as Record<string, unknown>;
  const linkinfo = (e.linkinfo ?? {}) as Record<string, unknown>;
  const data = (linkinfo.info_data ?? {}) as Record<string, unknown>;
  const bt = (data.bittiming ?? {}) as Record<string, unknown>;
  const dbt = (data.data_bittiming ?? {}) as Record<string, unknown>;
  const flags = Array.isArray(e.flags) ? (e.flags as unknown[]) : [];
  return {
    ifname: typeof e.ifname === 'string' ? e.ifname : '',
    kind: typeof linkinfo.info_kind === 'string' ? linkinfo.info_kind : null,
    mtu: num(e.mtu) ?? 0,
    up: flags.includes('UP'),
    txQueueLen: num(e.txqlen),
    canState: canStateFromText(typeof data.state === 'string' ? data.state : null),
    bitrate: num(bt.bitrate),
    dataBitrate: num(dbt.bitrate),
    restartMs: num(data.restart_ms),
    clock: num(data.clock),
  };
}

/**
 * Setup-time problems worth a warning at open (restart-ms 0, a bad txqueuelen, no bitrate), for real CAN
 * controllers only (a vcan has no bitrate, restart or meaningful queue).
 */
export function linkWarnings(d: LinkDetails): { event: string; message: string }[] {
  if (d.kind !== 'can') return [];
  const out: { event: string; message: string }[] = [];
  if (d.restartMs === 0) {
    out.push({
      event: 'can_restart_ms_zero',
      message: `${d.ifname} has restart-ms 0: after a bus-off it stays off until someone runs "ip link set ${d.ifname} type can restart"; run "ampio-bridge setup" or "ip link set ${d.ifname} down && ip link set ${d.ifname} type can bitrate ${d.bitrate ?? 50000} restart-ms 100 && ip link set ${d.ifname} up"`,
    });
  }
  if (d.txQueueLen !== null && (d.txQueueLen < 50 || d.txQueueLen > 1000)) {
    out.push({
      event: 'can_txqueuelen',
      message: `${d.ifname} has txqueuelen ${d.txQueueLen}; 100 is right for 50 kbit/s (too small: ENOBUFS on bursts, too large: stale commands replayed after an outage). Run "ip link set ${d.ifname} txqueuelen 100" or "ampio-bridge setup"`,
    });
  }
  if (d.bitrate === null) {
    out.push({
      event: 'can_bitrate_unknown',
      message: `${d.ifname} reports no bitrate: it was brought up without one. Run "ampio-bridge setup" or "ip link set ${d.ifname} type can bitrate 50000 restart-ms 100"`,
    });
  }
  return out;
}

// ---------------------------------------------------------------- the reads

/**
 * /sys/class/net/IF/…: cheap enough to poll (once a second while open). Read synchronously
 * on purpose: sysfs attributes are made in memory and never wait for a disk, and five
 * promise-based reads (thread pool, promise hops) cost several times more of the main
 * thread than the five small reads themselves (measured in the CAN VM).
 */
export async function readSysfsLink(ifname: string): Promise<LinkSnapshot> {
  const base = `/sys/class/net/${ifname}`;
  try {
    const read = (f: string): string => readFileSync(`${base}/${f}`, 'utf8');
    return linkFromSysfs({ flags: read('flags'), mtu: read('mtu'), operstate: read('operstate'), txQueueLen: read('tx_queue_len'), ifindex: read('ifindex') });
  } catch {
    return ABSENT_LINK;
  }
}

/** `ip -details -json link show dev IF` (bitrate, controller state, restart-ms). */
export function readIpDetails(ifname: string): Promise<LinkDetails | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-details', '-json', 'link', 'show', 'dev', ifname], { timeout: 3000 }, (err, stdout) => {
      resolve(err ? null : parseIpLinkDetails(String(stdout)));
    });
  });
}
