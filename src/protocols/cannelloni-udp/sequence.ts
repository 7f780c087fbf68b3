// Per-peer accounting of cannelloni's 8-bit datagram sequence numbers: what UDP lost and what it
// reordered, which cannelloni itself never reports. Pure.
//
// A datagram ahead of the expected number by d (1..127) means d − 1 were skipped (counted lost);
// one behind it by at most a quarter of the circle arrived late: counted misordered, and since it was
// counted lost when its successor came first, taken back out of `lost`. A repeat of the newest
// number (a duplicated datagram) counts as misordered too. A jump further back than that cannot
// be told apart from a restart of the peer: it resynchronises without counting.

/** What one datagram's sequence number says. */
export interface SequenceStep {
  /** Datagrams newly counted lost (negative: a late one that was counted lost arrived). */
  lost: number;
  misordered: number;
}

const WINDOW = 128;
const LATE = 64;

export class SequenceTracker {
  private expected = -1;
  /** Numbers counted lost and not yet seen, so a late arrival is taken back only once. */
  private readonly missing = new Set<number>();
  lost = 0;
  misordered = 0;

  next(seq: number): SequenceStep {
    if (this.expected < 0) {
      this.expected = (seq + 1) & 0xff;
      return { lost: 0, misordered: 0 };
    }
    const ahead = (seq - this.expected) & 0xff;
    if (ahead === 0) {
      this.expected = (seq + 1) & 0xff;
      this.missing.delete(seq);
      return { lost: 0, misordered: 0 };
    }
    if (ahead < WINDOW) {
      for (let k = 0; k < ahead; k++) this.missing.add((this.expected + k) & 0xff);
      // The window forgets numbers half a circle old: they can no longer come back as late.
      for (const m of this.missing) if (((seq - m) & 0xff) >= WINDOW) this.missing.delete(m);
      this.expected = (seq + 1) & 0xff;
      this.lost += ahead;
      return { lost: ahead, misordered: 0 };
    }
    const behind = (this.expected - seq) & 0xff;
    if (behind <= LATE) {
      this.misordered++;
      if (this.missing.delete(seq)) {
        this.lost--;
        return { lost: -1, misordered: 1 };
      }
      return { lost: 0, misordered: 1 };
    }
    this.expected = (seq + 1) & 0xff;
    this.missing.clear();
    return { lost: 0, misordered: 0 };
  }
}
