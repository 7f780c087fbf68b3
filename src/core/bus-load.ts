// Bus load from observed frames: the exact bits of every frame on the wire (frame-bits.ts)
// summed over a sliding window, with min/max bounds and a per-second history.
//
// Why exact bits: byte counters understate the load; the worst-case stuffing formula
// overstates it. The load operators compare us against is Linux `canbusload -e`, which
// counts each frame's real stuff bits; frame-bits.ts does the same, plus CAN FD.
//
// Cost: every bus frame goes through record() (RX and our own TX), up to ~21,000 frames/s
// on a saturated 1 Mbit/s bus and on a Pi Zero. So the window keeps fixed time buckets, not
// one entry per frame, and record() allocates nothing.

import { CAN_ERR_FLAG, type CanFrame } from './frame.js';
import { FrameBitCounter } from './frame-bits.js';

export { frameBitBounds, frameBits, type FrameBitBounds, type FrameBits, TRAILER_BITS } from './frame-bits.js';

export interface BusLoadReading {
  /** Load ratios (1 = 100 %) over the window; 0 when the bitrate is unknown. */
  exact: number;
  min: number;
  max: number;
  /** Whether a bitrate is known (else the ratios are 0 and meaningless). */
  bitrateKnown: boolean;
}

export interface BusLoadMeterOptions {
  /** Monotonic clock in ms (injected: performance.now in the daemon, a manual clock in tests). */
  now: () => number;
  /** Nominal bitrate in bit/s; null = unknown. */
  bitrate: number | null;
  /** CAN FD data-phase bitrate; null = same as nominal. */
  dataBitrate?: number | null;
  /** Window length, default 1000 ms. */
  windowMs?: number;
  /** One-second samples kept, default 60. */
  historyLength?: number;
}

/** Bucket width. Divides the 1 s sample period, so history samples fall on bucket edges. */
const BUCKET_MS = 50;
const SAMPLE_MS = 1000;

// Per-bucket fields, stored in one Float64Array (bit sums are integers, exact in a double).
const B_INDEX = 0; // which bucket the slot holds now (slots are reused round the ring)
const B_FIRST = 1; // time of its first and last frame
const B_LAST = 2;
const B_EXACT_NOM = 3; // from here on: the sums, in the order of the `sums` array
const B_EXACT_DATA = 4;
const B_MIN_NOM = 5;
const B_MIN_DATA = 6;
const B_MAX_NOM = 7;
const B_MAX_DATA = 8;
const FIELDS = 9;
const SUMS = FIELDS - B_EXACT_NOM;

/**
 * Sliding-window bus load: the exact bits of the frames seen in the last window (RX and
 * our own TX) over the bitrate, plus min/max bounds and a per-second history.
 *
 * Memory does not grow with the frame rate: frames are summed into fixed 50 ms buckets,
 * bucket k holding frames recorded at times in (start + (k − 1)·50, start + k·50], start
 * being construction time, in a ring just long enough for one window.
 *
 * Window semantics: a reading at time t covers frames recorded at times in (t − W, t].
 * A bucket whose last frame is at or before t − W is out, one whose first frame is after it
 * is in. The one bucket the edge t − W may cut is counted by the share of its first-to-last
 * frame span inside the window (frames assumed evenly spread within those 50 ms; counts are
 * rounded): an estimate to within one bucket's frames at that edge, unbiased for steady
 * traffic, and exact whenever the edge falls outside the span (e.g. a single frame).
 * History sample k covers (start + k·1 s − W, start + k·1 s]: with W a multiple of 50 ms
 * its edges are bucket edges, so samples are exact.
 * Bits are summed as integers per phase and converted with the bitrate only when read, so a
 * bitrate learned later (or changed) applies to the frames already in the window.
 */
export class BusLoadMeter {
  private readonly now: () => number;
  private bitrate: number | null;
  private dataBitrate: number | null;
  private readonly windowMs: number;
  private readonly historyLength: number;
  private readonly start: number;
  /** Slots: a window spans at most ⌈W/50⌉ + 1 buckets (partial ones at both ends). */
  private readonly slots: number;
  private readonly buckets: Float64Array;
  /** Window sums of the B_EXACT_NOM .. B_MAX_DATA fields, filled by sumWindow(). */
  private readonly sums = new Float64Array(SUMS);
  private lastTime: number;
  private nextSampleAt: number;
  /** History ring: exact, min, max per sample. */
  private readonly history: Float64Array;
  private historyHead = 0; // oldest sample
  private historyCount = 0;
  /** This meter's own bit counter: its fields hold the frame being recorded. */
  private readonly bits = new FrameBitCounter();

  constructor(opts: BusLoadMeterOptions) {
    this.now = opts.now;
    this.bitrate = opts.bitrate && opts.bitrate > 0 ? opts.bitrate : null;
    this.dataBitrate = opts.dataBitrate && opts.dataBitrate > 0 ? opts.dataBitrate : null;
    this.windowMs = opts.windowMs ?? 1000;
    this.historyLength = opts.historyLength ?? 60;
    this.start = this.now();
    // Times never go below the start, so bucket indices are >= 0.
    this.lastTime = this.start;
    this.nextSampleAt = this.start + SAMPLE_MS;
    this.slots = Math.ceil(this.windowMs / BUCKET_MS) + 1;
    this.buckets = new Float64Array(this.slots * FIELDS);
    // No slot holds a bucket yet: an index no frame can have, whose last frame is never in a window.
    for (let s = 0; s < this.slots; s++) {
      this.buckets[s * FIELDS + B_INDEX] = -1;
      this.buckets[s * FIELDS + B_LAST] = -Infinity;
    }
    this.history = new Float64Array(3 * Math.max(0, this.historyLength));
  }

  setBitrate(bitrate: number | null, dataBitrate: number | null = this.dataBitrate): void {
    this.bitrate = bitrate && bitrate > 0 ? bitrate : null;
    this.dataBitrate = dataBitrate && dataBitrate > 0 ? dataBitrate : null;
  }

  /** Counts one frame seen on the bus now (received, or sent by us). */
  record(frame: CanFrame): void {
    if ((frame.id & CAN_ERR_FLAG) !== 0) return;
    const t = this.monotonic(this.now());
    // Samples due strictly before this frame are taken without it (and before its bucket
    // may reuse a slot they still need).
    this.takeSamples(t, false);
    const bits = this.bits;
    bits.measure(frame);
    bits.bound(frame);
    const k = Math.ceil((t - this.start) / BUCKET_MS);
    const at = (k % this.slots) * FIELDS;
    const b = this.buckets;
    if (b[at + B_INDEX] !== k) {
      // The slot held bucket k − slots (or none), which ended at least a window before t.
      b.fill(0, at, at + FIELDS);
      b[at + B_INDEX] = k;
      b[at + B_FIRST] = t;
    }
    b[at + B_LAST] = t;
    b[at + B_EXACT_NOM] += bits.nominal;
    b[at + B_EXACT_DATA] += bits.data;
    b[at + B_MIN_NOM] += bits.minNominal;
    b[at + B_MIN_DATA] += bits.minData;
    b[at + B_MAX_NOM] += bits.maxNominal;
    b[at + B_MAX_DATA] += bits.maxData;
  }

  /** Load over the last window, ending now. */
  reading(): BusLoadReading {
    const t = this.monotonic(this.now());
    this.takeSamples(t, true);
    this.sumWindow(t);
    const s = this.sums;
    if (this.bitrate === null) return { exact: 0, min: 0, max: 0, bitrateKnown: false };
    return {
      exact: this.ratio(s[B_EXACT_NOM - B_EXACT_NOM], s[B_EXACT_DATA - B_EXACT_NOM]),
      min: this.ratio(s[B_MIN_NOM - B_EXACT_NOM], s[B_MIN_DATA - B_EXACT_NOM]),
      max: this.ratio(s[B_MAX_NOM - B_EXACT_NOM], s[B_MAX_DATA - B_EXACT_NOM]),
      bitrateKnown: true,
    };
  }

  /** The last `historyLength` one-second exact-load samples in percent, oldest first. */
  historyPercent(): number[] {
    this.takeSamples(this.monotonic(this.now()), true);
    const out: number[] = [];
    for (let i = 0; i < this.historyCount; i++) out.push(round2(this.history[this.historySlot(i) * 3] * 100));
    return out;
  }

  /** Average load over the history (up to 60 s), per bound. */
  historyAverage(): { exact: number; min: number; max: number; samples: number } {
    this.takeSamples(this.monotonic(this.now()), true);
    const n = this.historyCount;
    if (n === 0) return { exact: 0, min: 0, max: 0, samples: 0 };
    let exact = 0;
    let min = 0;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const at = this.historySlot(i) * 3;
      exact += this.history[at];
      min += this.history[at + 1];
      max += this.history[at + 2];
    }
    return { exact: exact / n, min: min / n, max: max / n, samples: n };
  }

  private monotonic(t: number): number {
    // A clock that steps back must not un-count frames or move a frame to an older bucket.
    if (t < this.lastTime) return this.lastTime;
    this.lastTime = t;
    return t;
  }

  private takeSamples(t: number, inclusive: boolean): void {
    while (inclusive ? this.nextSampleAt <= t : this.nextSampleAt < t) {
      // After a long idle gap only the last `historyLength` samples matter, and they are 0.
      const missed = Math.floor((t - this.nextSampleAt) / SAMPLE_MS);
      if (missed > this.historyLength + Math.ceil(this.windowMs / SAMPLE_MS)) {
        // Skipped samples would have been shifted out of the history anyway.
        this.nextSampleAt += (missed - this.historyLength) * SAMPLE_MS;
      }
      this.sumWindow(this.nextSampleAt);
      const s = this.sums;
      this.pushSample(
        this.ratio(s[B_EXACT_NOM - B_EXACT_NOM], s[B_EXACT_DATA - B_EXACT_NOM]),
        this.ratio(s[B_MIN_NOM - B_EXACT_NOM], s[B_MIN_DATA - B_EXACT_NOM]),
        this.ratio(s[B_MAX_NOM - B_EXACT_NOM], s[B_MAX_DATA - B_EXACT_NOM]),
      );
      this.nextSampleAt += SAMPLE_MS;
    }
  }

  /**
   * Sums the buckets in the window (end − W, end] into `sums`. Only called with `end` at or
   * after every recorded frame (takeSamples runs before a later frame is recorded).
   */
  private sumWindow(end: number): void {
    const cutoff = end - this.windowMs;
    const b = this.buckets;
    const s = this.sums;
    s.fill(0);
    for (let slot = 0; slot < this.slots; slot++) {
      const at = slot * FIELDS;
      const last = b[at + B_LAST];
      if (last <= cutoff) continue; // all its frames are at or before the edge (or none)
      const first = b[at + B_FIRST];
      // The edge cuts this bucket's span: count the share of the span inside the window.
      const share = first <= cutoff ? (last - cutoff) / (last - first) : 1;
      for (let k = 0; k < SUMS; k++) s[k] += b[at + B_EXACT_NOM + k] * share;
    }
  }

  /** Load ratio of nominal- and data-phase bits over one window; 0 with no bitrate. */
  private ratio(nom: number, dat: number): number {
    if (this.bitrate === null) return 0;
    return (nom / this.bitrate + dat / (this.dataBitrate ?? this.bitrate)) / (this.windowMs / 1000);
  }

  private pushSample(exact: number, min: number, max: number): void {
    if (this.historyLength <= 0) return;
    let i: number;
    if (this.historyCount < this.historyLength) i = this.historySlot(this.historyCount++);
    else {
      // Full: overwrite the oldest, and the next one becomes the oldest.
      i = this.historyHead;
      this.historyHead = (this.historyHead + 1) % this.historyLength;
    }
    this.history[i * 3] = exact;
    this.history[i * 3 + 1] = min;
    this.history[i * 3 + 2] = max;
  }

  /** Ring slot of the i-th oldest sample. */
  private historySlot(i: number): number {
    return (this.historyHead + i) % this.historyLength;
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
