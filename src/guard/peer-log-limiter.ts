// Bounds what remote peers can make the daemon log. Connection events (connected, refused,
// handshake failed, closed for squatting …) are keyed by peer host; in each window (60 s) the
// first few per host are logged, the rest only counted and summarised when the window ends:
// "… and 4,993 more connections from 10.0.0.7 in the last 60 s". On top of that a global cap
// holds across hosts, because an attacker with many addresses (an IPv6 /64 has 2^64) would
// otherwise get a few lines per address. So per window at most
//   globalLines + maxSummaries + 1
// lines come from peers, whatever they do, and the state kept is at most maxHosts entries.

import { hostKey } from './address-list.js';

export interface PeerLogLimits {
  windowMs: number;
  /** Lines per host per window before aggregation. */
  perHost: number;
  /** Lines per window across all hosts. */
  globalLines: number;
  /** Hosts remembered per window; more are lumped together as "other hosts". */
  maxHosts: number;
  /** Per-host summary lines at the end of a window (the rest go into one "other hosts" line). */
  maxSummaries: number;
}

export const DEFAULT_PEER_LOG_LIMITS: PeerLogLimits = { windowMs: 60_000, perHost: 20, globalLines: 200, maxHosts: 1024, maxSummaries: 20 };

export interface PeerLogSummary {
  /** null: the hosts beyond maxHosts/maxSummaries, together. */
  host: string | null;
  /** Events not logged. */
  suppressed: number;
  /** Distinct hosts in this summary (1 for a host line; -1: more than the limiter remembers). */
  hosts: number;
  windowMs: number;
  /** "… and 4,993 more connection events from 10.0.0.7 in the last 60 s" */
  message: string;
}

interface HostCount {
  logged: number;
  suppressed: number;
}

export class PeerLogLimiter {
  private windowStart = -1;
  private readonly hosts = new Map<string, HostCount>();
  private globalLogged = 0;
  /** Suppressed events of hosts not remembered (maxHosts reached). */
  private overflowSuppressed = 0;
  /** Suppressed events ever (a counter for metrics and tests). */
  suppressedTotal = 0;

  constructor(private readonly limits: PeerLogLimits = DEFAULT_PEER_LOG_LIMITS) {}

  /**
   * Whether to log an event from `host` now. Call `roll(now)` first (or rely on this calling
   * it) so that ended windows are summarised before the new one starts counting.
   */
  admit(host: string, now: number): boolean {
    if (this.windowStart < 0) this.windowStart = now;
    let h = this.hosts.get(host);
    if (!h) {
      if (this.hosts.size >= this.limits.maxHosts) {
        // Which hosts these are is not kept (that is the point of the bound).
        this.overflowSuppressed++;
        this.suppressedTotal++;
        return false;
      }
      h = { logged: 0, suppressed: 0 };
      this.hosts.set(host, h);
    }
    if (h.logged < this.limits.perHost && this.globalLogged < this.limits.globalLines) {
      h.logged++;
      this.globalLogged++;
      return true;
    }
    h.suppressed++;
    this.suppressedTotal++;
    return false;
  }

  /** Ends the window if it is over: returns the summary lines to log (possibly none). */
  roll(now: number): PeerLogSummary[] {
    if (this.windowStart < 0 || now - this.windowStart < this.limits.windowMs) return [];
    return this.flush();
  }

  /** Ends the window now (shutdown, tests); with `now`, the summaries name the time it really covered. */
  flush(now?: number): PeerLogSummary[] {
    const out: PeerLogSummary[] = [];
    const windowMs = now !== undefined && this.windowStart >= 0 ? Math.min(this.limits.windowMs, Math.max(1000, now - this.windowStart)) : this.limits.windowMs;
    const noisy = [...this.hosts.entries()].filter(([, c]) => c.suppressed > 0).sort((a, b) => b[1].suppressed - a[1].suppressed);
    let restEvents = this.overflowSuppressed;
    let restHosts = 0;
    noisy.forEach(([host, c], i) => {
      if (i < this.limits.maxSummaries) out.push(summary(host, c.suppressed, 1, windowMs));
      else {
        restEvents += c.suppressed;
        restHosts++;
      }
    });
    if (restEvents > 0) out.push(summary(null, restEvents, this.overflowSuppressed > 0 ? -1 : restHosts, windowMs));
    this.hosts.clear();
    this.globalLogged = 0;
    this.overflowSuppressed = 0;
    this.windowStart = -1;
    return out;
  }

  /** Most lines peers can cause per window (the bound the tests check). */
  maxLinesPerWindow(): number {
    return this.limits.globalLines + this.limits.maxSummaries + 1;
  }
}

function summary(host: string | null, suppressed: number, hosts: number, windowMs: number): PeerLogSummary {
  const n = suppressed.toLocaleString('en-US');
  const secs = Math.round(windowMs / 1000);
  const from = host !== null ? host : hosts < 0 ? 'many other hosts' : `${hosts.toLocaleString('en-US')} other host${hosts === 1 ? '' : 's'}`;
  return { host, suppressed, hosts, windowMs, message: `… and ${n} more connection events from ${from} in the last ${secs} s` };
}

/**
 * The key a host's share is counted under: its IPv4 address, or for a global IPv6 address its
 * /64 (one home network gets one /64, and an attacker can use every address in it). Local IPv6
 * addresses (loopback, ULA, link-local) are keyed whole: many LAN devices share those prefixes.
 */
export function shareKey(address: string): string {
  const a = hostKey(address);
  if (!a.includes(':')) return a;
  const bare = a.split('%')[0].toLowerCase();
  const first = bare.split(':')[0];
  const v = first === '' ? 0 : parseInt(first, 16);
  // Global unicast is 2000::/3.
  if (!(v >= 0x2000 && v <= 0x3fff)) return bare;
  const groups = expandGroups(bare);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : bare;
}

function expandGroups(a: string): string[] | null {
  const halves = a.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  if (halves.length > 2) return null;
  const fill = 8 - head.length - tail.length;
  if (fill < 0) return null;
  return [...head, ...new Array<string>(fill).fill('0'), ...tail].map((g) => g.replace(/^0+(?=.)/, ''));
}
