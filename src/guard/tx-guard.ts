// The TX guard of one session: whether a frame a client sent may go to the bus. Checked in
// this order: listen-only clients (their address is outside --tx-allow), the ID allow-list
// (--tx-ids), then the client's token bucket (--tx-rate). A frame refused for its ID takes
// no token, so a client probing forbidden IDs does not also starve its allowed ones.
import { idAllowed, type IdMask } from './id-mask.js';
import { TokenBucket, type TxRate } from './token-bucket.js';

export type TxRefusal = 'read_only' | 'id_not_allowed' | 'rate_limited';

export interface TxPolicy {
  /** The client only listens: every frame it sends is dropped (it is never closed for it). */
  readOnly: boolean;
  /** null: no rate limit. */
  rate: TxRate | null;
  /** Empty: every ID. */
  ids: readonly IdMask[];
}

export class TxGuard {
  /** Refusals of this session by reason (shown per client in status/top). */
  readonly refused: Record<TxRefusal, number> = { read_only: 0, id_not_allowed: 0, rate_limited: 0 };
  private bucket: TokenBucket | null;
  private policy: TxPolicy;

  constructor(policy: TxPolicy, now: number) {
    this.policy = policy;
    this.bucket = policy.rate ? new TokenBucket(policy.rate, now) : null;
  }

  get readOnly(): boolean {
    return this.policy.readOnly;
  }

  /**
   * null = send it. Otherwise the reason it is refused, already counted; `first` is true the
   * first time this session is refused for that reason (log it then, once per session).
   */
  check(canId: number, now: number): { reason: TxRefusal; first: boolean } | null {
    let reason: TxRefusal | null = null;
    if (this.policy.readOnly) reason = 'read_only';
    else if (!idAllowed(this.policy.ids, canId)) reason = 'id_not_allowed';
    else if (this.bucket && !this.bucket.take(now)) reason = 'rate_limited';
    if (reason === null) return null;
    const first = this.refused[reason] === 0;
    this.refused[reason]++;
    return { reason, first };
  }

  /** Applies a reloaded policy; the bucket keeps what it earned (capped at the new burst). */
  reconfigure(policy: TxPolicy, now: number): void {
    this.policy = policy;
    if (!policy.rate) this.bucket = null;
    else if (this.bucket) this.bucket.reconfigure(policy.rate, now);
    else this.bucket = new TokenBucket(policy.rate, now);
  }

  totalRefused(): number {
    return this.refused.read_only + this.refused.id_not_allowed + this.refused.rate_limited;
  }
}
