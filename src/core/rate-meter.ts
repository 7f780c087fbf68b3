// Events per second over a sliding one-second window (ten 100 ms buckets), fed with an
// injected monotonic clock. Cheap enough for the per-frame path: one add, no allocation.

const BUCKETS = 10;
const BUCKET_MS = 100;

export class RateMeter {
  private readonly counts = new Float64Array(BUCKETS);
  private current = 0;
  private currentStart = 0;

  constructor(private readonly now: () => number) {
    this.currentStart = Math.floor(now() / BUCKET_MS) * BUCKET_MS;
  }

  add(n = 1): void {
    this.advance(this.now());
    this.counts[this.current] += n;
  }

  /** Sum over the last second (the running bucket included). */
  perSecond(): number {
    this.advance(this.now());
    let sum = 0;
    for (let k = 0; k < BUCKETS; k++) sum += this.counts[k];
    return sum;
  }

  private advance(t: number): void {
    if (t - this.currentStart < BUCKET_MS) return;
    const steps = Math.floor((t - this.currentStart) / BUCKET_MS);
    const clear = Math.min(steps, BUCKETS);
    for (let k = 1; k <= clear; k++) this.counts[(this.current + k) % BUCKETS] = 0;
    this.current = (this.current + steps) % BUCKETS;
    this.currentStart += steps * BUCKET_MS;
  }
}
