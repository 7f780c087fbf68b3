// A token bucket: `rate` tokens per second, holding at most `burst`. One token per frame a
// client may put on the bus. Time comes in as a number (monotonic ms), so it is exact in tests.

export interface TxRate {
  /** Frames per second, sustained. */
  readonly rate: number;
  /** Frames allowed at once after a quiet period. */
  readonly burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private limit: TxRate,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.last = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Tokens available now (fractional). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** New limits (SIGHUP); the tokens already earned are kept, capped at the new burst. */
  reconfigure(limit: TxRate, now: number): void {
    this.refill(now);
    this.limit = limit;
    if (this.tokens > limit.burst) this.tokens = limit.burst;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    // A clock that goes backwards (it should not: monotonic) earns nothing.
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.rate) / 1000);
  }
}

/** `--tx-rate`: `200` (burst: one second's worth) or `200/50` (burst 50); `0` or `off` = no limit. */
export function parseTxRate(raw: string): TxRate | null {
  const t = raw.trim().toLowerCase();
  if (t === '0' || t === 'off' || t === '') return null;
  const m = /^(\d+)(?:\/(\d+))?$/.exec(t);
  if (!m) throw new Error(`"${raw}" is not a rate (frames/s like 200, or 200/50 for a burst of 50)`);
  const rate = Number(m[1]);
  const burst = m[2] === undefined ? rate : Number(m[2]);
  if (rate < 1 || rate > 1_000_000) throw new Error(`${rate} frames/s is outside 1..1000000`);
  if (burst < 1 || burst > 1_000_000) throw new Error(`a burst of ${burst} is outside 1..1000000`);
  return { rate, burst };
}

export function formatTxRate(r: TxRate | null): string {
  if (!r) return '0';
  return r.burst === r.rate ? String(r.rate) : `${r.rate}/${r.burst}`;
}

/**
 * A per-client rate to suggest for a bus: half of the frames a bus of this bitrate can carry
 * (an 8-byte extended frame is about 130 bits with stuffing), so one client can never take the
 * whole bus from the Ampio modules. Burst: a quarter second's worth (a scene switching many
 * outputs at once).
 */
export function suggestTxRate(bitrate: number): TxRate {
  const busFps = bitrate / 130;
  const rate = Math.max(1, Math.floor(busFps / 2));
  return { rate, burst: Math.max(8, Math.floor(rate / 4)) };
}
