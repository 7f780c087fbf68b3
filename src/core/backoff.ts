// Capped exponential backoff, the one of the project (device reopen loops, `top`'s
// reconnects). Pure: the caller owns the timer.

export interface BackoffOptions {
  /** First delay, ms. */
  initial: number;
  /** Ceiling, ms. */
  max: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

export class Backoff {
  private readonly initial: number;
  private readonly max: number;
  private readonly factor: number;
  private current: number;

  constructor(opts: BackoffOptions) {
    if (!(opts.initial > 0) || !(opts.max >= opts.initial)) {
      throw new RangeError(`backoff needs 0 < initial <= max (got ${opts.initial}, ${opts.max})`);
    }
    if (!((opts.factor ?? 2) >= 1)) throw new RangeError(`backoff needs factor >= 1 (got ${opts.factor})`);
    this.initial = opts.initial;
    this.max = opts.max;
    this.factor = opts.factor ?? 2;
    this.current = opts.initial;
  }

  /** The delay before the next attempt; each call grows the following one up to `max`. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.current * this.factor, this.max);
    return delay;
  }

  /** After a success: start again from `initial`. */
  reset(): void {
    this.current = this.initial;
  }
}
