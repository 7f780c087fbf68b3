// A session's outbound queue: a fixed ring of shared, already encoded frames. Bounded by the
// hub (it offers a frame only while the ring has room), so memory per client stays bounded
// however slow the peer is; frames are never copied until the batch is written.
export class FrameRing {
  private readonly slots: Uint8Array[];
  /** Monotonic ms each frame was queued (same index as its slot). */
  private readonly queuedAt: Float64Array;
  private head = 0;
  /** Frames queued. */
  count = 0;
  /** Bytes queued. */
  bytes = 0;
  /** Most frames ever queued at once. */
  highWater = 0;

  constructor(capacity: number) {
    this.slots = new Array<Uint8Array>(capacity);
    this.queuedAt = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.slots.length;
  }

  /** Queues shared bytes (never mutated), queued at `at` (monotonic ms); the caller keeps count < capacity. */
  push(bytes: Uint8Array, at = 0): void {
    const slot = (this.head + this.count) % this.slots.length;
    this.slots[slot] = bytes;
    this.queuedAt[slot] = at;
    this.count++;
    this.bytes += bytes.length;
    if (this.count > this.highWater) this.highWater = this.count;
  }

  /**
   * Queued frames as one buffer, oldest first: all of them, or as many whole frames as fit in
   * `maxBytes` (at least one). One frame (a quiet bus, or --flush-interval 0 on a real one) is
   * returned as it is, without a copy. `headroom`: bytes left free at the start of the buffer
   * for a header the caller writes (a datagram's), so the frames are copied once.
   */
  take(maxBytes = Number.POSITIVE_INFINITY, headroom = 0): { bytes: Uint8Array; frames: number } {
    const cap = this.slots.length;
    let n = this.count;
    let size = this.bytes;
    if (size > maxBytes) {
      n = 0;
      size = 0;
      while (n < this.count) {
        const len = this.slots[(this.head + n) % cap].length;
        if (n > 0 && size + len > maxBytes) break;
        size += len;
        n++;
      }
    }
    let out: Uint8Array;
    if (n === 1 && headroom === 0) {
      out = this.slots[this.head];
      this.slots[this.head] = undefined as unknown as Uint8Array;
    } else {
      out = Buffer.allocUnsafe(headroom + size);
      let p = headroom;
      for (let k = 0; k < n; k++) {
        const slot = (this.head + k) % cap;
        const b = this.slots[slot];
        out.set(b, p);
        p += b.length;
        this.slots[slot] = undefined as unknown as Uint8Array; // let shared buffers be collected
      }
    }
    this.count -= n;
    this.bytes -= size;
    this.head = this.count === 0 ? 0 : (this.head + n) % cap;
    return { bytes: out, frames: n };
  }

  /** When the oldest queued frame was queued; null when none is. */
  oldestAt(): number | null {
    return this.count > 0 ? this.queuedAt[this.head] : null;
  }

  /** Drops frames from the oldest on while `tooOld(queuedAt)`; returns how many. */
  dropOldest(tooOld: (queuedAt: number) => boolean): number {
    const cap = this.slots.length;
    let n = 0;
    while (this.count > 0 && tooOld(this.queuedAt[this.head])) {
      this.bytes -= this.slots[this.head].length;
      this.slots[this.head] = undefined as unknown as Uint8Array;
      this.head = (this.head + 1) % cap;
      this.count--;
      n++;
    }
    if (this.count === 0) this.head = 0;
    return n;
  }

  /** Drops what is queued (a session that closes without flushing). */
  clear(): void {
    for (let k = 0; k < this.count; k++) this.slots[(this.head + k) % this.slots.length] = undefined as unknown as Uint8Array;
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
