// Who gets in, and what they may send: the decisions the server makes about a connection,
// kept apart from sockets so they are testable as plain calls. The server asks, in order:
//   allowed(address)         before anything is read (else: closed, `not_allowed`)
//   enterPending(host, s)    while it negotiates (a host over its share loses its oldest)
//   takeSlot(host)           once it is a client (--max-clients-per-host)
//   txPolicy(address)        the TX guard of the new client (listen-only, rate, IDs)
// and reports what it refused with reject(reason, protocol) and txRefused(reason, protocol):
// hub_rejected_clients_total{reason,protocol} and tx_refused_total{reason,protocol}.
import { addressAllowed, type AddressList } from './address-list.js';
import { HostSlots } from './host-slots.js';
import type { IdMask } from './id-mask.js';
import { PeerLogLimiter, shareKey } from './peer-log-limiter.js';
import { PendingPool } from './pending-pool.js';
import type { TxRate } from './token-bucket.js';
import type { TxPolicy, TxRefusal } from './tx-guard.js';

export type RejectReason =
  /** The address is outside --allow (at accept, or after a reload for a live client). */
  | 'not_allowed'
  /** --max-clients reached when the negotiation finished. */
  | 'max_clients'
  /** --max-clients-per-host reached. */
  | 'max_clients_per_host'
  /** Closed while negotiating: its host opened more than --max-pending-per-host. */
  | 'pending_evicted'
  /** Closed at once while accepting is paused (the process is out of file descriptors). */
  | 'no_descriptors';

export interface AccessSettings {
  allow: AddressList;
  /** null: same as allow. */
  txAllow: AddressList | null;
  txRate: TxRate | null;
  txIds: readonly IdMask[];
  maxPendingPerHost: number;
  maxClientsPerHost: number;
}

/**
 * Connections negotiating at once, across all hosts. Each holds a descriptor; 256 leaves most
 * of a default 1024-descriptor limit to clients while any one host is held to its share.
 */
export const MAX_PENDING_TOTAL = 256;

export class Gatekeeper<S> {
  private settings: AccessSettings;
  readonly pending: PendingPool<S>;
  private readonly slots: HostSlots;
  readonly logLimiter = new PeerLogLimiter();
  private readonly rejectedCounts = new Map<string, number>();
  private readonly txRefusedCounts = new Map<string, number>();
  private readonly resetCounts = new Map<string, number>();

  constructor(settings: AccessSettings) {
    this.settings = settings;
    this.pending = new PendingPool<S>({ perHost: settings.maxPendingPerHost, total: MAX_PENDING_TOTAL });
    this.slots = new HostSlots(settings.maxClientsPerHost);
  }

  get current(): AccessSettings {
    return this.settings;
  }

  /** The key a peer's shares are counted under (its IPv4 address, or its IPv6 /64 when global). */
  hostOf(address: string | undefined): string {
    return address ? shareKey(address) : '?';
  }

  allowed(address: string | undefined): boolean {
    return addressAllowed(this.settings.allow, address);
  }

  /** The TX guard policy for a client at `address`. */
  txPolicy(address: string | undefined): TxPolicy {
    const txAllow = this.settings.txAllow ?? this.settings.allow;
    return { readOnly: !addressAllowed(txAllow, address), rate: this.settings.txRate, ids: this.settings.txIds };
  }

  /** Returns the pending connections to close (oldest first) to make room. */
  enterPending(host: string, s: S): S[] {
    return this.pending.add(host, s);
  }

  leavePending(host: string, s: S): boolean {
    return this.pending.remove(host, s);
  }

  /** Whether `host` already holds its whole --max-clients-per-host share (checked at accept). */
  hostFull(host: string): boolean {
    return this.settings.maxClientsPerHost > 0 && this.slots.of(host) >= this.settings.maxClientsPerHost;
  }

  takeSlot(host: string): boolean {
    return this.slots.take(host);
  }

  releaseSlot(host: string): void {
    this.slots.release(host);
  }

  reject(reason: RejectReason, protocol: string): void {
    const k = `${reason}\u0000${protocol}`;
    this.rejectedCounts.set(k, (this.rejectedCounts.get(k) ?? 0) + 1);
  }

  /** A connection reset by its peer before it was accepted: counted apart from refusals. */
  resetBeforeAccept(protocol: string): void {
    this.resetCounts.set(protocol, (this.resetCounts.get(protocol) ?? 0) + 1);
  }

  /** tcp_accept_reset_total{protocol} */
  resets(): Array<{ protocol: string; count: number }> {
    return [...this.resetCounts].map(([protocol, count]) => ({ protocol, count }));
  }

  txRefused(reason: TxRefusal, protocol: string): void {
    const k = `${reason}\u0000${protocol}`;
    this.txRefusedCounts.set(k, (this.txRefusedCounts.get(k) ?? 0) + 1);
  }

  rejected(): Array<{ reason: string; protocol: string; count: number }> {
    return unpack(this.rejectedCounts);
  }

  refusedTx(): Array<{ reason: string; protocol: string; count: number }> {
    return unpack(this.txRefusedCounts);
  }

  totalRejected(): number {
    let n = 0;
    for (const v of this.rejectedCounts.values()) n += v;
    return n;
  }

  /** New settings (SIGHUP). Returns pending connections that no longer fit their host's share. */
  update(next: AccessSettings): S[] {
    this.settings = next;
    this.slots.perHost = next.maxClientsPerHost;
    return this.pending.reconfigure({ perHost: next.maxPendingPerHost, total: MAX_PENDING_TOTAL });
  }
}

function unpack(m: Map<string, number>): Array<{ reason: string; protocol: string; count: number }> {
  return [...m].map(([k, count]) => {
    const [reason, protocol] = k.split('\u0000');
    return { reason, protocol, count };
  });
}
