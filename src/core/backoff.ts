// Capped exponential backoff. Pure: the caller owns the timer; jitter comes from an
// injected random source so tests are deterministic.

export interface BackoffOptions {
  /** First delay, ms. */
  initial: number;
  /** Ceiling, ms. */
  max: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * Fraction of the delay randomised away (0..1, default 0): 0.2 gives delays in
   * [0.8·d, d]. Spreads reconnect storms when several buses lose power together.
   */
  jitter?: number;
  /** Random source in [0, 1); only used when jitter > 0. */
  random?: () => number;
}

export class Backoff {
  private readonly initial: number;
  private readonly max: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private current: number;
  private count = 0;

  constructor(opts: BackoffOptions) {
    if (!(opts.initial > 0) || !(opts.max >= opts.initial)) {
      throw new RangeError(`backoff needs 0 < initial <= max (got ${opts.initial}, ${opts.max})`);
    }
    this.initial = opts.initial;
    this.max = opts.max;
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(Math.max(opts.jitter ?? 0, 0), 1);
    this.random = opts.random ?? (() => 0);
    this.current = opts.initial;
  }

  /** The delay before the next attempt; each call grows the following one up to `max`. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.current * this.factor, this.max);
    this.count++;
    if (this.jitter === 0) return base;
    return base * (1 - this.jitter * this.random());
  }

  /** What next() would return without jitter, without advancing. */
  peek(): number {
    return this.current;
  }

  /** Attempts since the last reset. */
  get attempts(): number {
    return this.count;
  }

  /** After a success: start again from `initial`. */
  reset(): void {
    this.current = this.initial;
    this.count = 0;
  }
}
