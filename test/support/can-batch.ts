// Builds the packed batches the SocketCAN addon hands to JS (80-byte records: can_id,
// len, flags, meta, len8_dlc, 64 data bytes, seconds, nanoseconds), so the backend's
// decoding can be driven without AF_CAN (this host's kernel has none).
import type { CanFrame } from '../../src/core/frame.js';

export interface BatchEntry {
  frame: CanFrame;
  /** MSG_CONFIRM: our own frame, transmitted. */
  own?: boolean;
  /** Kernel time as [seconds, nanoseconds]; omitted = no timestamp control message. */
  ts?: [number, number];
}

export function packBatch(entries: BatchEntry[]): Buffer {
  const buf = Buffer.alloc(entries.length * 80);
  entries.forEach((e, i) => {
    const b = i * 80;
    buf.writeUInt32LE(e.frame.id >>> 0, b);
    buf[b + 4] = e.frame.len;
    buf[b + 5] = e.frame.fd ? e.frame.fdFlags | 0x04 : 0;
    buf[b + 6] = (e.frame.fd ? 1 : 0) | (e.own ? 2 : 0) | (e.ts ? 4 : 0);
    buf.set(e.frame.data.subarray(0, 64), b + 8);
    if (e.ts) {
      buf.writeUInt32LE(e.ts[0], b + 72);
      buf.writeUInt32LE(e.ts[1], b + 76);
    }
  });
  return buf;
}
