// Latency histogram in microseconds: 1 µs buckets up to 65.5 ms (where every budget lives),
// then 1 ms buckets up to 10 s, then one overflow bucket. Fixed memory, one array index per
// sample, and mergeable across clients and processes (it travels to the orchestrator as a
// sparse list of [bucket, count]).

const FINE_LIMIT_US = 65_536;
const COARSE_STEP_US = 1000;
const COARSE_BUCKETS = 10_000;
const OVERFLOW = FINE_LIMIT_US + COARSE_BUCKETS;

export interface HistogramSummary {
  count: number;
  p50Us: number;
  p95Us: number;
  p99Us: number;
  maxUs: number;
}

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(OVERFLOW + 1);
  count = 0;
  maxUs = 0;

  record(us: number): void {
    let b: number;
    if (us < FINE_LIMIT_US) b = us < 0 ? 0 : us | 0;
    else b = Math.min(OVERFLOW, FINE_LIMIT_US + Math.floor((us - FINE_LIMIT_US) / COARSE_STEP_US));
    this.buckets[b]++;
    this.count++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Records `n` samples of the same value (all frames of one TCP read share a receive time). */
  recordMany(us: number, n: number): void {
    if (n <= 0) return;
    let b: number;
    if (us < FINE_LIMIT_US) b = us < 0 ? 0 : us | 0;
    else b = Math.min(OVERFLOW, FINE_LIMIT_US + Math.floor((us - FINE_LIMIT_US) / COARSE_STEP_US));
    this.buckets[b] += n;
    this.count += n;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.maxUs = 0;
  }

  /** Sparse form for IPC. */
  toJSON(): { buckets: Array<[number, number]>; count: number; maxUs: number } {
    const buckets: Array<[number, number]> = [];
    for (let b = 0; b < this.buckets.length; b++) if (this.buckets[b] !== 0) buckets.push([b, this.buckets[b]]);
    return { buckets, count: this.count, maxUs: this.maxUs };
  }

  merge(other: { buckets: Array<[number, number]>; count: number; maxUs: number }): void {
    for (const [b, n] of other.buckets) this.buckets[b] += n;
    this.count += other.count;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  /** Value (µs, upper edge of its bucket) below which a fraction `q` of the samples lie. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b < this.buckets.length; b++) {
      seen += this.buckets[b];
      if (seen >= rank) {
        const upper = b < FINE_LIMIT_US ? b + 1 : FINE_LIMIT_US + (b - FINE_LIMIT_US + 1) * COARSE_STEP_US;
        return Math.min(upper, this.maxUs);
      }
    }
    return this.maxUs;
  }

  summary(): HistogramSummary {
    return { count: this.count, p50Us: this.quantile(0.5), p95Us: this.quantile(0.95), p99Us: this.quantile(0.99), maxUs: this.maxUs };
  }
}
