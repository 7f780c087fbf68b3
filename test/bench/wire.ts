// What the bench's processes agree on: the sequence payload layout of the virtual bus
// (src/backends/virtual.ts) and the clock used for latency.
//
//   EFF id (0x1000 + bus, or 0x1800 + sender for frames clients send) | len 8 |
//   seq (BE uint32) | send time (BE uint32, low 32 bits of wall-clock µs)

/** Bus-generated frames: 0x1000 + bus index (virtual.ts SEQUENCE_BASE_ID). */
export const BUS_KEY_BASE = 0x1000;
/** Frames the load generator's senders put on the bus: 0x1800 + sender index. */
export const SENDER_KEY_BASE = 0x1800;
/** Per-connection sequence tracking covers keys 0x1000..0x1fff. */
export const KEY_SPACE = 0x1000;
export const SEQ_FRAME_BYTES = 13;
export const CAN_EFF_FLAG = 0x80000000;

/**
 * Low 32 bits of wall-clock microseconds, computed exactly as the virtual bus does. Both
 * processes derive it from their own performance.timeOrigin, which Node takes from the
 * system clock at start-up; the two agree to a few µs on one machine.
 */
export function wallMicros32(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000) % 4294967296;
}

/** Writes one sequence frame at `offset` (13 bytes). */
export function writeSeqFrame(out: Buffer, offset: number, key: number, seq: number, timeUs: number): void {
  out.writeUInt32BE((CAN_EFF_FLAG | key) >>> 0, offset);
  out[offset + 4] = 8;
  out.writeUInt32BE(seq >>> 0, offset + 5);
  out.writeUInt32BE(timeUs >>> 0, offset + 9);
}

export const HELLO = Buffer.from('CANNELLONIv1', 'ascii');

/** tcpcan: `v 1`, sent by the client and answered by the bridge. */
export const TCPCAN_VERSION = Buffer.from([0x76, 4, 0, 0, 0, 1]);
/** tcpcan `d` message of a classic frame: 2-byte header + 16-byte little-endian can_frame. */
export const TCPCAN_SEQ_FRAME_BYTES = 18;

/** Writes one sequence frame as a tcpcan `d` message at `offset` (18 bytes). */
export function writeTcpcanSeqFrame(out: Buffer, offset: number, key: number, seq: number, timeUs: number): void {
  out.fill(0, offset, offset + TCPCAN_SEQ_FRAME_BYTES);
  out[offset] = 0x64;
  out[offset + 1] = 16;
  out.writeUInt32LE((CAN_EFF_FLAG | key) >>> 0, offset + 2);
  out[offset + 6] = 8;
  out.writeUInt32BE(seq >>> 0, offset + 10);
  out.writeUInt32BE(timeUs >>> 0, offset + 14);
}
