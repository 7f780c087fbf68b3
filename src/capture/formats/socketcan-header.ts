// The frame as Wireshark's SocketCAN dissector reads it (LINKTYPE_CAN_SOCKETCAN = 227), used
// by the PCAP and PCAPNG encoders. Layout from tcpdump.org's linktypes/LINKTYPE_CAN_SOCKETCAN
// page and linux/can.h (struct can_frame / struct canfd_frame):
//   can_id (4, big-endian here, unlike the host-order kernel struct; EFF/RTR/ERR flags in the top bits)
//   len (1) | flags (1: CANFD_BRS 0x01, CANFD_ESI 0x02, CANFD_FDF 0x04) | res0 (1) | len8_dlc/res1 (1)
//   data: 8 bytes (CAN_MTU = 16) or 64 bytes (CANFD_MTU = 72), zero-padded
// Classic frames are written at 16 bytes and FD frames at 72, exactly as a SocketCAN capture
// holds them, so readers that tell FD by the length and those that read FDF agree.
import { CAN_RTR_FLAG, CANFD_FDF, CANFD_FLAGS_MASK, type CanFrame } from '../../core/frame.js';

export const LINKTYPE_CAN_SOCKETCAN = 227;
export const CAN_MTU = 16;
export const CANFD_MTU = 72;

export function socketcanLength(f: CanFrame): number {
  return f.fd ? CANFD_MTU : CAN_MTU;
}

/** Writes the frame at `at`; returns the bytes written (16 or 72). */
export function writeSocketcan(f: CanFrame, buf: Buffer, at: number): number {
  const size = f.fd ? CANFD_MTU : CAN_MTU;
  buf.writeUInt32BE(f.id >>> 0, at);
  buf[at + 4] = f.len;
  buf[at + 5] = f.fd ? (f.fdFlags & CANFD_FLAGS_MASK) | CANFD_FDF : 0;
  buf[at + 6] = 0;
  buf[at + 7] = 0;
  buf.fill(0, at + 8, at + size);
  if ((f.id & CAN_RTR_FLAG) === 0 && f.data.length > 0) buf.set(f.data.length > size - 8 ? f.data.subarray(0, size - 8) : f.data, at + 8);
  return size;
}
