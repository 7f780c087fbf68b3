// A growable byte buffer for the binary encoders: one allocation reused per chunk instead
// of a Buffer per frame (1 M frames must export in seconds).
export class ChunkBuffer {
  private buf: Buffer;
  pos = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Room for `n` more bytes; returns the buffer to write into at `pos`. */
  reserve(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    return this.buf;
  }

  /** A copy of what was written; the buffer is reused. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}
